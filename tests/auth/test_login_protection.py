"""The login's defences against guessing: the per-account lock under parallel guesses, answers that do not tell
which usernames exist, a lock that does not shut the real user out, and the failed-login limit per address."""

import re
import threading
import time
from datetime import timedelta

import pytest

from crm import create_app
from crm.auth import passwords, service
from crm.extensions import db
from tests import factories
from tests.auth.test_auth_views import add_staff, post_login
from tests.helpers import FormPage, app_session
from tests.orders.sales_builders import run_at_once

PASSWORD = "correct-horse-42"
LOCKOUT = timedelta(minutes=15)

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


class VerificationLog:
    """Wraps the password hasher and records the hash of every verification (thread-safe), optionally taking the
    time a real argon2id check takes, so that parallel requests overlap as they do in production."""

    def __init__(self, hasher, seconds: float = 0.0):
        self._hasher, self._seconds = hasher, seconds
        self._lock = threading.Lock()
        self.hashes: list[str] = []

    def verify(self, password_hash, password):
        with self._lock:
            self.hashes.append(password_hash)
        time.sleep(self._seconds)
        return self._hasher.verify(password_hash, password)

    def __getattr__(self, name):
        return getattr(self._hasher, name)


@pytest.fixture
def verifications(monkeypatch):
    log = VerificationLog(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", log)
    return log


@pytest.fixture
def wide_app(app):
    """A second app on the same database with a connection pool as wide as the crowd of guessers."""
    wide = create_app("test", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                      SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": 25, "max_overflow": 0})
    yield wide
    with wide.app_context():
        db.session.remove()
        db.engine.dispose()


# --- the per-account lock under parallel guesses ----------------------------------------------------------------


def test_twenty_parallel_wrong_passwords_get_at_most_max_failures_checks(wide_app, monkeypatch):
    with app_session(wide_app):
        user = factories.staff(username="olena", password=PASSWORD)
        real_hash = user.password_hash
    log = VerificationLog(passwords._hasher, seconds=0.03)  # about the time of a real argon2id check
    monkeypatch.setattr(passwords, "_hasher", log)

    def guess(session):
        try:
            return service.authenticate(session, "olena", "a-wrong-guess", max_failures=5, lockout=LOCKOUT)
        except service.AuthError as refused:
            return refused  # the view commits a refusal too: the failure must count

    outcomes = run_at_once(wide_app, *[guess] * 20)

    assert all(isinstance(outcome, service.AuthError) for outcome in outcomes)
    assert log.hashes.count(real_hash) <= 5
    with app_session(wide_app) as session:
        assert service.find_by_username(session, "olena").locked_until is not None


# --- failures that look alike -----------------------------------------------------------------------------------


def lock_by_guessing(app, client, username: str) -> None:
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert post_login(client, username, "a-wrong-guess").status_code == 200


def deactivate(app, username: str) -> None:
    with app_session(app) as session:
        service.find_by_username(session, username).is_active_account = False


def page_without(response, username: str) -> str:
    """The page as an onlooker compares it: the CSRF token and the echoed username are the only parts that may
    differ between two attempts."""
    html = response.get_data(as_text=True).replace(f'value="{username}"', 'value="USERNAME"')
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "CSRF", html)


def failed_attempts(app, client) -> dict[str, object]:
    """One response per kind of failure: unknown username, wrong password, a locked account given the right
    password, a deactivated account given the right password."""
    add_staff(app, username="wrong-pw", password=PASSWORD)
    add_staff(app, username="locked", password=PASSWORD)
    add_staff(app, username="inactive", password=PASSWORD)
    lock_by_guessing(app, client, "locked")
    deactivate(app, "inactive")
    return {"unknown": post_login(client, "nobody-here", PASSWORD), "wrong": post_login(client, "wrong-pw", "guess"),
            "locked": post_login(client, "locked", PASSWORD), "deactivated": post_login(client, "inactive", PASSWORD)}


def test_unknown_wrong_locked_and_deactivated_get_the_same_page(app, client):
    responses = failed_attempts(app, client)
    usernames = {"unknown": "nobody-here", "wrong": "wrong-pw", "locked": "locked", "deactivated": "inactive"}

    assert {kind: r.status_code for kind, r in responses.items()} == dict.fromkeys(responses, 200)
    errors = {kind: FormPage(r.get_data(as_text=True)).errors for kind, r in responses.items()}
    assert errors == dict.fromkeys(responses, {"password": ["Wrong username or password."]})
    pages = {page_without(r, usernames[kind]) for kind, r in responses.items()}
    assert len(pages) == 1


def test_every_kind_of_failed_login_costs_exactly_one_password_verification(app, client, verifications):
    add_staff(app, username="wrong-pw", password=PASSWORD)
    add_staff(app, username="locked", password=PASSWORD)
    add_staff(app, username="inactive", password=PASSWORD)
    lock_by_guessing(app, client, "locked")
    deactivate(app, "inactive")

    costs = {}
    for kind, username, password in [("unknown", "nobody-here", PASSWORD), ("wrong", "wrong-pw", "guess"),
                                     ("locked", "locked", PASSWORD), ("deactivated", "inactive", PASSWORD)]:
        before = len(verifications.hashes)
        assert post_login(client, username, password).status_code == 200
        costs[kind] = len(verifications.hashes) - before
    assert costs == {"unknown": 1, "wrong": 1, "locked": 1, "deactivated": 1}

