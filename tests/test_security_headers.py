"""Browser hardening headers (crm/security_headers.py) on every kind of response: a staff page, the customer's
public pages, the login page, error pages and static files; HSTS only when the setting says TLS."""

import re

import pytest

from config import BASE_DIR
from crm import create_app
from crm.auth.access import public
from crm.extensions import db
from tests import factories
from tests.helpers import app_session

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
TEMPLATES = BASE_DIR / "templates"

POLICY_DIRECTIVES = {
    "default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:",
    "font-src": "'self'", "connect-src": "'self'", "object-src": "'none'", "base-uri": "'self'",
    "form-action": "'self'", "frame-ancestors": "'none'",
}


def _policy(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def assert_hardened(response, referrer_policy="strict-origin-when-cross-origin"):
    assert _policy(response) == POLICY_DIRECTIVES
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == referrer_policy
    assert "Strict-Transport-Security" not in response.headers  # the test settings do not say TLS


def _tracking_token(app) -> str:
    with app_session(app):
        return factories.order().tracking_token


def test_a_staff_page_carries_the_headers(auth, client):
    auth.login("manager")
    response = client.get("/customers")
    assert response.status_code == 200
    assert_hardened(response)


def test_the_login_page_carries_the_headers(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert_hardened(response)


def test_the_tracking_page_sends_no_referrer_its_url_holds_the_secret_token(app, client):
    response = client.get(f"/t/{_tracking_token(app)}")
    assert response.status_code == 200
    assert_hardened(response, referrer_policy="no-referrer")


def test_an_unknown_tracking_link_also_sends_no_referrer(client):
    assert_hardened(client.get("/t/not-a-real-token"), referrer_policy="no-referrer")


def test_the_404_page_carries_the_headers(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert_hardened(response)


def test_a_405_answer_carries_the_headers(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert_hardened(response)


def test_a_static_file_carries_the_headers(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert_hardened(response)
    response.close()


@pytest.fixture
def app_with():
    built = []

    def build(**overrides):
        new_app = create_app("test", SQLALCHEMY_DATABASE_URI="sqlite://", **overrides)
        built.append(new_app)
        return new_app

    yield build
    for extra in built:
        with extra.app_context():
            db.session.remove()
            db.engine.dispose()


def test_hsts_is_sent_on_every_response_when_the_setting_says_tls(app_with):
    client = app_with(HSTS_ENABLED=True, HSTS_MAX_AGE=31536000).test_client()
    for path in ("/login", "/no-such-page", "/static/css/app.css"):
        response = client.get(path)
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains", path
        response.close()


def test_no_hsts_without_the_setting(app_with):
    response = app_with(HSTS_ENABLED=False).test_client().get("/login")
    assert "Strict-Transport-Security" not in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"


def test_an_unexpected_error_page_carries_the_headers(app_with):
    broken = app_with(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    def boom():
        raise RuntimeError("a bug")

    broken.add_url_rule("/boom", "boom", public(boom))
    response = broken.test_client().get("/boom")
    assert response.status_code == 500
    assert_hardened(response)


# The policy allows no inline script or style: pages the browser tests do not open are held to it here.
INLINE = {
    "a style attribute": re.compile(r"""\bstyle\s*=\s*["']""", re.I),
    "a <style> block": re.compile(r"<style\b", re.I),
    # A data block (type="application/json", read by a script file) is not run, and the policy does not block it.
    "an inline <script>": re.compile(r"""<script\b(?![^>]*\b(?:src=|type=["']application/json["']))[^>]*>""", re.I),
    "an event-handler attribute": re.compile(r"""<[^>]+\son[a-z]+\s*=\s*["']""", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
}


def test_no_template_has_inline_script_or_style():
    found = [f"{path.relative_to(TEMPLATES)}: {what}"
             for path in sorted(TEMPLATES.rglob("*.html"))
             for what, pattern in INLINE.items() if pattern.search(path.read_text(encoding="utf-8"))]
    assert not found, "the Content-Security-Policy would block these:\n" + "\n".join(found)


def test_the_inline_check_sees_what_the_policy_blocks():
    samples = {"a style attribute": '<td style="max-width: 9rem">', "a <style> block": "<style>@page {}</style>",
               "an inline <script>": "<script>alert(1)</script>",
               "an event-handler attribute": '<button type="button" onclick="window.print()">',
               "a javascript: URL": '<a href="javascript:void(0)">'}
    assert all(INLINE[what].search(sample) for what, sample in samples.items())
    assert not any(p.search('<script src="/static/js/print.js"></script><button data-print>') for p in INLINE.values())
    assert not any(p.search('<script type="application/json" id="d">{"a": 1}</script>') for p in INLINE.values())
    assert INLINE["an inline <script>"].search('<script type="text/javascript">alert(1)</script>')
