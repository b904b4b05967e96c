"""The login's defences against guessing: the per-account lock under parallel guesses, answers that do not tell
which usernames exist, a lock that does not shut the real user out, and the failed-login limit per address."""

import logging
import re
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, build_opener

import pytest
from sqlalchemy import select

from crm import create_app
from crm.audit import AuditEntry
from crm.auth import passwords, service
from crm.auth.models import LoginFailure, StaffUser
from crm.database import utcnow
from crm.extensions import db
from tests import factories
from tests.auth.test_auth_views import add_staff, post_login
from tests.conftest import csrf_token
from tests.factories.sales import run_at_once
from tests.helpers import FormPage, app_session

PASSWORD = "correct-horse-42"
LOCKOUT = timedelta(minutes=15)
DESK = "198.51.100.7"
GUESSER = "203.0.113.66"
# The lock's rules without the per-address limit in the way, and the per-address limit set low.
LOCK_POLICY = service.LoginPolicy(max_failures=5, lockout=LOCKOUT, address_limit=1000,
                                  address_window=timedelta(minutes=1))
LIMIT_POLICY = service.LoginPolicy(max_failures=5, lockout=LOCKOUT, address_limit=3,
                                   address_window=timedelta(minutes=1))

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


def attempt(session, username, password, *, address=GUESSER, now=None, policy=LOCK_POLICY):
    """Log in through the service; returns the account or the refusal."""
    try:
        return service.authenticate(session, username, password, address=address, policy=policy, now=now)
    except service.AuthError as refused:
        return refused


# --- the per-account lock under parallel guesses ----------------------------------------------------------------


def test_of_twenty_parallel_wrong_passwords_only_max_failures_reach_the_password_check(wide_app, monkeypatch):
    with app_session(wide_app):
        user = factories.staff(username="olena", password=PASSWORD)
        real_hash = user.password_hash
    log = VerificationLog(passwords._hasher, seconds=0.03)  # about the time of a real argon2id check
    monkeypatch.setattr(passwords, "_hasher", log)

    def guess(session):
        return attempt(session, "olena", "a-wrong-guess")  # a refusal is returned and committed, as the view does

    outcomes = run_at_once(wide_app, *[guess] * 20)

    assert all(isinstance(outcome, service.AuthError) for outcome in outcomes)
    assert log.hashes.count(real_hash) == LOCK_POLICY.max_failures  # the lock held for the other 15
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


# Each kind of failure: an unknown username, a wrong password, and the right password of a locked or a deactivated
# account (set up by accounts_that_fail).
FAILURES = {"unknown": ("nobody-here", PASSWORD), "wrong": ("wrong-pw", "guess"), "locked": ("locked", PASSWORD),
            "deactivated": ("inactive", PASSWORD)}


def accounts_that_fail(app, client) -> None:
    for username in ("wrong-pw", "locked", "inactive"):
        add_staff(app, username=username, password=PASSWORD)
    lock_by_guessing(app, client, "locked")
    deactivate(app, "inactive")


def test_unknown_wrong_locked_and_deactivated_get_the_same_page(app, client):
    accounts_that_fail(app, client)
    responses = {kind: post_login(client, username, password) for kind, (username, password) in FAILURES.items()}

    assert {kind: r.status_code for kind, r in responses.items()} == dict.fromkeys(FAILURES, 200)
    errors = {kind: FormPage(r.get_data(as_text=True)).errors for kind, r in responses.items()}
    assert errors == dict.fromkeys(FAILURES, {"password": ["Wrong username or password."]})
    assert len({page_without(r, FAILURES[kind][0]) for kind, r in responses.items()}) == 1


def test_every_kind_of_failed_login_costs_exactly_one_password_verification(app, client, verifications):
    accounts_that_fail(app, client)
    costs = {}
    for kind, (username, password) in FAILURES.items():
        before = len(verifications.hashes)
        assert post_login(client, username, password).status_code == 200
        costs[kind] = len(verifications.hashes) - before
    assert costs == dict.fromkeys(FAILURES, 1)


# --- a lock that does not shut the real user out --------------------------------------------------------------------


def lock_from(session, username: str, address: str, now) -> None:
    for _ in range(LOCK_POLICY.max_failures):
        assert isinstance(attempt(session, username, "a-wrong-guess", address=address, now=now), service.AuthError)
    assert service.is_locked(service.find_by_username(session, username), now)


def test_a_locked_account_takes_the_right_password_from_an_address_that_has_not_failed(session, make):
    user = make.staff(username="olena", password=PASSWORD)
    now = utcnow()
    lock_from(session, "olena", GUESSER, now)
    assert isinstance(attempt(session, "olena", PASSWORD, address=GUESSER, now=now), service.AuthError)
    assert attempt(session, "olena", PASSWORD, address=DESK, now=now) is user


def test_a_login_through_the_lock_leaves_the_guesser_locked_out(session, make):
    make.staff(username="olena", password=PASSWORD)
    now = utcnow()
    lock_from(session, "olena", GUESSER, now)
    attempt(session, "olena", PASSWORD, address=DESK, now=now)
    refused = attempt(session, "olena", PASSWORD, address=GUESSER, now=now + timedelta(minutes=1))
    assert str(refused.message) == "Wrong username or password."


def test_a_new_address_that_guesses_wrong_during_the_lock_is_held_back_too(session, make):
    make.staff(username="olena", password=PASSWORD)
    now = utcnow()
    lock_from(session, "olena", GUESSER, now)
    second_guesser = "203.0.113.99"
    assert isinstance(attempt(session, "olena", "another-guess", address=second_guesser, now=now), service.AuthError)
    assert isinstance(attempt(session, "olena", PASSWORD, address=second_guesser, now=now), service.AuthError)


def test_the_failing_address_may_try_again_once_the_lock_has_expired(session, make):
    user = make.staff(username="olena", password=PASSWORD)
    now = utcnow()
    lock_from(session, "olena", GUESSER, now)
    assert attempt(session, "olena", PASSWORD, address=GUESSER, now=now + LOCKOUT + timedelta(seconds=1)) is user


def test_the_desk_logs_in_through_the_login_page_while_the_guesser_has_locked_the_account(app):
    add_staff(app, username="boss", role="manager", password=PASSWORD)
    guesser, desk = app.test_client(), app.test_client()
    guesser.environ_base["REMOTE_ADDR"], desk.environ_base["REMOTE_ADDR"] = GUESSER, DESK
    lock_by_guessing(app, guesser, "boss")
    assert post_login(guesser, "boss", PASSWORD).status_code == 200
    assert post_login(desk, "boss", PASSWORD).status_code == 302


def locked_account(app, username: str, client) -> int:
    user_id = add_staff(app, username=username, password=PASSWORD)
    lock_by_guessing(app, client, username)
    return user_id


def test_the_staff_list_shows_a_locked_account_with_an_unlock_button(app, auth, client):
    auth.login("manager")
    user_id = locked_account(app, "olena", app.test_client())
    add_staff(app, username="taras")
    html = client.get("/staff").get_data(as_text=True)
    assert html.count("Locked until") == 1
    assert html.count('action="/staff/') == 1
    assert f'action="/staff/{user_id}/unlock"' in html


def test_a_manager_unlocks_an_account_and_the_change_log_says_who(app, auth, client):
    manager_id = auth.login("manager")
    guesser = app.test_client()
    user_id = locked_account(app, "olena", guesser)
    token = csrf_token(client, "/staff")
    response = client.post(f"/staff/{user_id}/unlock", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/staff"
    assert "Account olena unlocked." in client.get("/staff").get_data(as_text=True)

    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.subject == "staff:olena",
                                                           AuditEntry.field == "locked_until"))
        assert (entry.field, entry.new_value, entry.actor_id) == ("locked_until", "", manager_id)
        assert entry.old_value  # when the lock would have ended
        db.session.remove()
    assert "staff:olena" in client.get("/loyalty/audit").get_data(as_text=True)
    assert post_login(guesser, "olena", PASSWORD).status_code == 302  # even from the address that failed


def test_unlocking_an_account_that_is_not_locked_changes_nothing(app, auth, client):
    auth.login("manager")
    user_id = add_staff(app, username="olena")
    response = client.post(f"/staff/{user_id}/unlock", data={"csrf_token": csrf_token(client, "/staff")})
    assert response.status_code == 302
    assert "Account olena is not locked." in client.get("/staff").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.field == "locked_until")) is None
        db.session.remove()


def test_unlocking_needs_the_csrf_token(app, auth, client):
    auth.login("manager")
    user_id = locked_account(app, "olena", app.test_client())
    assert client.post(f"/staff/{user_id}/unlock").status_code == 400
    with app.app_context():
        assert db.session.get(StaffUser, user_id).locked_until is not None
        db.session.remove()


# --- the failed-login limit per client address --------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is the answer to look at, not a page to fetch


class Browser:
    """A real HTTP client with one cookie jar: its session goes with it from one worker to the other, as behind a
    load balancer in front of gunicorn."""

    def __init__(self):
        self._opener = build_opener(HTTPCookieProcessor(CookieJar()), _NoRedirect)

    def _open(self, url: str, data: dict | None = None) -> tuple[int, str]:
        body = urlencode(data).encode() if data is not None else None
        try:
            with self._opener.open(url, body, timeout=30) as response:
                return response.status, response.read().decode()
        except HTTPError as answer:
            return answer.code, answer.read().decode()

    def login(self, base_url: str, username: str, password: str) -> int:
        _, page = self._open(base_url + "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status, _ = self._open(base_url + "/login", {"username": username, "password": password, "csrf_token": token})
        return status


@pytest.fixture
def start_worker(app, tmp_path):
    """start_worker(LOGIN_RATE_LIMIT) -> base URL of a new process serving the app on the test database."""
    processes = []

    def start(login_rate_limit: str) -> str:
        log = tmp_path / f"worker-{len(processes)}.log"
        with log.open("w") as errors:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.auth.worker", app.config["SQLALCHEMY_DATABASE_URI"], login_rate_limit],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
        processes.append(process)
        port = process.stdout.readline().strip()
        assert port.isdigit(), log.read_text()
        return f"http://127.0.0.1:{port}"

    yield start
    for process in processes:
        process.terminate()
        process.wait(10)
        process.stdout.close()


def test_the_failed_login_limit_holds_across_two_workers_sharing_the_database(app, start_worker):
    add_staff(app, username="olena", password=PASSWORD)
    first, second = start_worker("3 per minute"), start_worker("3 per minute")
    guesser = Browser()

    assert [guesser.login(url, "olena", "a-wrong-guess") for url in (first, second, first)] == [200, 200, 200]
    assert guesser.login(second, "olena", PASSWORD) == 429  # the second worker counts the first one's failures
    assert guesser.login(first, "olena", PASSWORD) == 429


def test_one_addresses_failures_do_not_hold_up_another_addresses_login(app):
    add_staff(app, username="olena", password=PASSWORD)
    limited = create_app("test", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         LOGIN_RATE_LIMIT="3 per minute")
    try:
        guesser, desk = limited.test_client(), limited.test_client()
        guesser.environ_base["REMOTE_ADDR"], desk.environ_base["REMOTE_ADDR"] = GUESSER, DESK
        assert [post_login(guesser, "someone", "a-guess").status_code for _ in range(4)] == [200, 200, 200, 429]
        assert post_login(desk, "olena", PASSWORD).status_code == 302
    finally:
        with limited.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_address_limit_refuses_before_any_password_is_checked(session, make, verifications):
    make.staff(username="olena", password=PASSWORD)
    now = utcnow()
    for _ in range(LIMIT_POLICY.address_limit):
        attempt(session, "nobody", "a-guess", now=now, policy=LIMIT_POLICY)
    before = len(verifications.hashes)
    refused = attempt(session, "olena", PASSWORD, now=now, policy=LIMIT_POLICY)
    assert isinstance(refused, service.TooManyAttempts)
    assert len(verifications.hashes) == before


def test_failures_older_than_the_window_no_longer_count(session, make):
    user = make.staff(username="olena", password=PASSWORD)
    start = utcnow()
    for _ in range(LIMIT_POLICY.address_limit):
        attempt(session, "nobody", "a-guess", now=start, policy=LIMIT_POLICY)
    refused = attempt(session, "olena", PASSWORD, now=start + timedelta(seconds=59), policy=LIMIT_POLICY)
    assert isinstance(refused, service.TooManyAttempts)
    assert attempt(session, "olena", PASSWORD, now=start + timedelta(seconds=61), policy=LIMIT_POLICY) is user


def test_failed_attempts_are_pruned_once_no_rule_needs_them(session, make):
    start = utcnow()
    attempt(session, "nobody", "a-guess", now=start)
    attempt(session, "nobody", "a-guess", address=DESK, now=start + LOCKOUT - timedelta(seconds=1))
    attempt(session, "nobody", "a-guess", address=DESK, now=start + LOCKOUT + timedelta(seconds=1))
    kept = session.scalars(select(LoginFailure.failed_at).order_by(LoginFailure.failed_at)).all()
    assert kept == [start + LOCKOUT - timedelta(seconds=1), start + LOCKOUT + timedelta(seconds=1)]


def test_parallel_failures_prune_old_rows_without_getting_in_each_others_way(wide_app):
    start = utcnow() - LOCKOUT - timedelta(minutes=1)
    with app_session(wide_app) as session:
        session.add_all([LoginFailure(address=f"198.51.100.{n}", failed_at=start) for n in range(50)])

    def guess(n):
        def desk(session):
            return attempt(session, f"nobody-{n}", "a-guess", address=f"203.0.113.{n}")
        return desk

    outcomes = run_at_once(wide_app, *[guess(n) for n in range(20)])

    assert all(isinstance(outcome, service.AuthError) for outcome in outcomes)
    with app_session(wide_app) as session:
        assert sorted(session.scalars(select(LoginFailure.address))) == sorted(f"203.0.113.{n}" for n in range(20))


def test_a_failure_stores_the_address_and_account_but_not_what_was_typed(session, make):
    user = make.staff(username="olena", password=PASSWORD)
    attempt(session, "olena", "a-secret-guess")
    attempt(session, "my-password-typed-as-username", "x")
    rows = session.execute(select(LoginFailure.address, LoginFailure.staff_id).order_by(LoginFailure.id)).all()
    assert rows == [(GUESSER, user.id), (GUESSER, None)]


@pytest.mark.parametrize(("address", "client"), [
    ("203.0.113.5", "203.0.113.5"),
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.5", "203.0.113.5"),
    (None, "unknown"),
    ("not an address", "not an address"),
])
def test_a_client_is_an_ipv4_address_or_an_ipv6_64_network(address, client):
    """One household or server gets a whole IPv6 /64: counted address by address, a guesser would never repeat."""
    assert service.client_key(address) == client


def test_production_without_proxy_fix_warns_at_start_up(app, caplog):
    def start(**overrides):
        caplog.clear()
        built = create_app("production", SECRET_KEY="a-production-test-key-of-at-least-32-bytes",
                           PUBLIC_BASE_URL="https://crm.example.test",
                           SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], **overrides)
        with built.app_context():
            db.engine.dispose()
        return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name == "crm"]

    with caplog.at_level(logging.WARNING, logger="crm"):
        warned = start(PROXY_FIX_X_FOR=0)
        assert len(warned) == 1 and "every client shares the proxy's address" in warned[0]
        assert start(PROXY_FIX_X_FOR=1) == []
