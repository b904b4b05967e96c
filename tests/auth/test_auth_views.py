"""Login, logout, sessions that end when they should, and the manager's staff pages.

Data is set up in its own app context and committed, so every request runs with a fresh session as in
production (an outer app context would be shared with the requests and hide a missing commit)."""

from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from crm import create_app
from crm.auth.models import Role, StaffUser
from crm.auth.passwords import verify_password
from crm.extensions import db
from tests import factories
from tests.conftest import Auth, csrf_token
from tests.helpers import app_session

# argon2id at its real cost is checked in tests/auth/test_auth_service.py; here it would only be slow.
pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

PASSWORD = "correct-horse-42"


def add_staff(app, **kwargs) -> int:
    with app_session(app):
        return factories.staff(**kwargs).id


def load_staff(app, user_id: int) -> StaffUser:
    with app.app_context():
        user = db.session.get(StaffUser, user_id)
        db.session.expunge(user)
        db.session.remove()
        return user


def post_login(client, username, password=PASSWORD, next_=None):
    token = csrf_token(client, "/login")
    url = "/login" if next_ is None else "/login?" + urlencode({"next": next_})
    return client.post(url, data={"username": username, "password": password, "csrf_token": token})


def is_logged_in(client) -> bool:
    response = client.get("/customers")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def redirects_to_login(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.fixture
def manager_client(app):
    """A second browser, logged in as a manager."""
    other = app.test_client()
    Auth(app, other).login("manager")
    return other


# --- logging in ---------------------------------------------------------------------------------------------------


def test_login_page_shows_a_form_with_a_csrf_token(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="username"' in html and 'name="password"' in html
    assert csrf_token(client, "/login")


def test_login_with_correct_password_redirects_to_the_role_start_page(app, client):
    add_staff(app, username="tech1", role=Role.TECHNICIAN)
    response = post_login(client, "tech1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    start = client.get("/")
    assert start.status_code == 302 and start.headers["Location"] == "/orders/queue"
    assert is_logged_in(client)


def test_wrong_password_rerenders_the_form_with_the_username_kept(app, client):
    add_staff(app, username="olena")
    response = post_login(client, "olena", "not-the-password")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Wrong username or password." in html
    assert 'value="olena"' in html
    assert "not-the-password" not in html
    assert not is_logged_in(client)


def test_unknown_username_shows_the_same_message_as_a_wrong_password(client):
    html = post_login(client, "nobody").get_data(as_text=True)
    assert "Wrong username or password." in html


def test_account_locks_after_too_many_wrong_passwords(app, client):
    add_staff(app, username="olena")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert post_login(client, "olena", "guess-guess").status_code == 200
    response = post_login(client, "olena", PASSWORD)
    assert response.status_code == 200
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert not is_logged_in(client)


def test_next_parameter_is_followed_for_a_same_site_path(app, client):
    add_staff(app, username="desk1", role=Role.FRONT_DESK)
    response = post_login(client, "desk1", next_="/customers?q=067")
    assert response.headers["Location"] == "/customers?q=067"


@pytest.mark.parametrize("target", ["//evil.com", "//evil.com/login", "https://evil.com/", "/\\evil.com",
                                    "/\t/evil.com", "/\n/evil.com", "/\r\n/evil.com", "javascript:alert(1)",
                                    "evil.com"])
def test_next_parameter_to_another_site_is_ignored(app, client, target):
    add_staff(app, username="desk1", role=Role.FRONT_DESK)
    response = post_login(client, "desk1", next_=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_post_without_csrf_token_is_refused(app, client):
    add_staff(app, username="olena")
    response = client.post("/login", data={"username": "olena", "password": PASSWORD})
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    assert not is_logged_in(client)


def test_logged_in_user_opening_the_login_page_goes_to_the_start_page(auth, client):
    auth.login("manager")
    response = client.get("/login")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_session_cookie_is_httponly_and_samesite_lax(app, client):
    add_staff(app, username="olena")
    response = post_login(client, "olena")
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    attributes = [part.strip().lower() for part in cookies[-1].split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


def test_login_is_rate_limited_per_client(app):
    """A second app with a low limit on the same database (the shared app's limit of 1000/minute is not in the
    way); the failures it counts are rows, emptied after every test."""
    add_staff(app, username="olena")
    limited = create_app("test", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         LOGIN_RATE_LIMIT="3 per minute")
    try:
        client = limited.test_client()
        for _ in range(3):
            assert post_login(client, "olena", "guess-guess").status_code == 200
        response = post_login(client, "olena", PASSWORD)  # even the right password waits
        assert response.status_code == 429
        assert "Too many attempts" in response.get_data(as_text=True)
        assert client.get("/login").status_code == 200  # only POSTs count
        assert not is_logged_in(client)
    finally:
        with limited.app_context():
            db.session.remove()
            db.engine.dispose()


def test_logins_that_succeed_do_not_count_against_the_limit(app):
    """Desks behind one address log in many times a morning; only the failed attempts are limited."""
    add_staff(app, username="olena")
    limited = create_app("test", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         LOGIN_RATE_LIMIT="3 per minute")
    try:
        for _ in range(6):  # six desks, one address
            desk = limited.test_client()
            assert post_login(desk, "olena").status_code == 302
            assert is_logged_in(desk)
        guesser = limited.test_client()
        assert [post_login(guesser, "olena", "guess-guess").status_code for _ in range(4)] == [200, 200, 200, 429]
    finally:
        with limited.app_context():
            db.session.remove()
            db.engine.dispose()


# --- logging out and sessions that end -----------------------------------------------------------------------------


def test_logout_is_post_only(auth, client):
    auth.login("technician")
    assert client.get("/logout").status_code == 405
    assert is_logged_in(client)


def test_logout_without_csrf_token_is_refused(auth, client):
    auth.login("technician")
    assert client.post("/logout").status_code == 400
    assert is_logged_in(client)


def test_logout_ends_the_session_and_a_copied_cookie_no_longer_works(auth, client):
    auth.login("front_desk")
    stolen = client.get_cookie("session").value
    response = auth.logout()
    assert redirects_to_login(response)
    assert not is_logged_in(client)

    client.set_cookie("session", stolen)
    assert redirects_to_login(client.get("/customers"))


def test_manager_password_reset_ends_the_users_existing_session(app, auth, client, manager_client):
    tech_id = auth.login("technician")
    assert is_logged_in(client)

    token = csrf_token(manager_client, f"/staff/{tech_id}/password")
    response = manager_client.post(f"/staff/{tech_id}/password",
                                   data={"password": "a-new-password-1", "confirm": "a-new-password-1",
                                         "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/staff"

    assert redirects_to_login(client.get("/customers"))
    tech = load_staff(app, tech_id)
    assert verify_password(tech.password_hash, "a-new-password-1")
    assert post_login(app.test_client(), tech.username, "a-new-password-1").status_code == 302


def test_own_password_change_keeps_this_browser_and_ends_the_others(app, auth, client):
    user_id = auth.login("technician", username="tech-self")
    other_browser = app.test_client()
    assert post_login(other_browser, "tech-self").status_code == 302

    token = csrf_token(client, "/account/password")
    response = client.post("/account/password", data={"current_password": "correct-horse-42",
                                                      "password": "a-new-password-1", "confirm": "a-new-password-1",
                                                      "csrf_token": token})
    assert response.status_code == 302
    assert is_logged_in(client)
    assert not is_logged_in(other_browser)
    assert verify_password(load_staff(app, user_id).password_hash, "a-new-password-1")


def test_own_password_change_needs_the_current_password(app, auth, client):
    user_id = auth.login("technician", username="tech-borrowed")
    before = load_staff(app, user_id).password_hash
    token = csrf_token(client, "/account/password")
    response = client.post("/account/password", data={"current_password": "a-guess", "password": "a-new-password-1",
                                                      "confirm": "a-new-password-1", "csrf_token": token})
    assert response.status_code == 200
    assert "This is not your current password." in response.get_data(as_text=True)
    assert load_staff(app, user_id).password_hash == before
    assert is_logged_in(client)


def test_deactivated_users_existing_session_ends(app, auth, client, manager_client):
    desk_id = auth.login("front_desk", username="desk-gone")
    assert is_logged_in(client)

    token = csrf_token(manager_client, f"/staff/{desk_id}/edit")
    response = manager_client.post(f"/staff/{desk_id}/edit", data={"full_name": "Desk Gone", "role": "front_desk",
                                                                   "csrf_token": token})  # "active" unticked
    assert response.status_code == 302

    assert redirects_to_login(client.get("/customers"))
    assert not load_staff(app, desk_id).is_active_account
    again = post_login(app.test_client(), "desk-gone")
    assert again.status_code == 200
    assert "Wrong username or password." in again.get_data(as_text=True)


# --- the manager's staff pages -------------------------------------------------------------------------------------


def staff_form_post(client, path, **data):
    data["csrf_token"] = csrf_token(client, path)
    return client.post(path, data=data)


def test_staff_list_shows_every_account(app, auth, client):
    auth.login("manager")
    add_staff(app, username="olena", full_name="Olena Kovalenko")
    html = client.get("/staff").get_data(as_text=True)
    assert "Olena Kovalenko" in html and "olena" in html


def test_manager_creates_a_staff_account_that_can_log_in(app, auth, client):
    auth.login("manager")
    response = staff_form_post(client, "/staff/new", username="taras", full_name="Taras Melnyk",
                               role="front_desk", password="a-long-password")
    assert response.status_code == 302 and response.headers["Location"] == "/staff"
    assert "Account taras created." in client.get("/staff").get_data(as_text=True)

    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == "taras"))
        assert (user.full_name, user.role, user.is_active_account) == ("Taras Melnyk", "front_desk", True)
        assert user.password_hash.startswith("$argon2id$")
        db.session.remove()
    assert post_login(app.test_client(), "taras", "a-long-password").status_code == 302


def test_duplicate_username_shows_the_error_next_to_the_field_and_keeps_what_was_typed(app, auth, client):
    auth.login("manager")
    add_staff(app, username="olena")
    response = staff_form_post(client, "/staff/new", username="OLENA", full_name="Olena Second",
                               role="technician", password="a-long-password")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="username-error">This username is already taken.' in html
    assert 'value="Olena Second"' in html
    assert 'value="OLENA"' in html
    assert "a-long-password" not in html
    with app.app_context():
        assert db.session.scalar(select(StaffUser).where(StaffUser.full_name == "Olena Second")) is None
        db.session.remove()


def test_short_password_on_the_create_form_is_shown_next_to_the_password(app, auth, client):
    auth.login("manager")
    response = staff_form_post(client, "/staff/new", username="taras", full_name="Taras Melnyk",
                               role="technician", password="short")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="password-error"' in html
    assert 'value="taras"' in html and 'value="Taras Melnyk"' in html


def test_manager_edits_name_and_role(app, auth, client):
    auth.login("manager")
    user_id = add_staff(app, username="olena", role=Role.TECHNICIAN, full_name="Olena K")
    page = client.get(f"/staff/{user_id}/edit").get_data(as_text=True)
    assert 'value="Olena K"' in page

    response = staff_form_post(client, f"/staff/{user_id}/edit", full_name="Olena Kovalenko", role="front_desk",
                               active="y")
    assert response.status_code == 302
    user = load_staff(app, user_id)
    assert (user.full_name, user.role, user.is_active_account) == ("Olena Kovalenko", "front_desk", True)


def test_manager_cannot_demote_themselves_through_the_form(app, auth, client):
    manager_id = auth.login("manager")
    response = staff_form_post(client, f"/staff/{manager_id}/edit", full_name="Boss", role="technician", active="y")
    assert response.status_code == 200
    assert "You cannot remove your own manager access." in response.get_data(as_text=True)
    assert load_staff(app, manager_id).role == Role.MANAGER
    assert client.get("/staff").status_code == 200


def test_manager_cannot_deactivate_themselves_through_the_form(app, auth, client):
    manager_id = auth.login("manager")
    response = staff_form_post(client, f"/staff/{manager_id}/edit", full_name="Boss", role="manager")
    assert response.status_code == 200
    assert load_staff(app, manager_id).is_active_account
    assert is_logged_in(client)


def test_password_reset_with_differing_confirmation_changes_nothing(app, auth, client):
    auth.login("manager")
    user_id = add_staff(app, username="olena")
    response = staff_form_post(client, f"/staff/{user_id}/password", password="a-new-password-1",
                               confirm="a-new-password-2")
    assert response.status_code == 200
    assert "The two passwords differ." in response.get_data(as_text=True)
    assert verify_password(load_staff(app, user_id).password_hash, PASSWORD)


def test_a_manager_cannot_change_their_own_password_on_the_staff_page_without_the_current_one(app, auth, client):
    """An unattended logged-in browser must not be enough to take the manager's account over."""
    manager_id = auth.login("manager")
    before = load_staff(app, manager_id).password_hash
    token = csrf_token(client, "/account/password")
    response = client.post(f"/staff/{manager_id}/password",
                           data={"password": "a-new-password-1", "confirm": "a-new-password-1", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/account/password"
    assert load_staff(app, manager_id).password_hash == before
    assert client.get(f"/staff/{manager_id}/password").headers["Location"] == "/account/password"
    assert "asks for your current password" in client.get("/account/password").get_data(as_text=True)
    assert is_logged_in(client)


def test_the_staff_list_links_the_managers_own_row_to_the_own_password_form(app, auth, client):
    manager_id = auth.login("manager")
    other_id = add_staff(app, username="olena")
    html = client.get("/staff").get_data(as_text=True)
    assert f'href="/staff/{manager_id}/password"' not in html
    assert f'href="/staff/{other_id}/password"' in html
    assert html.count('href="/account/password"') == 2  # the navigation's, and the manager's own row


@pytest.mark.parametrize("path", ["/staff/999999/edit", "/staff/999999/password"])
def test_staff_pages_of_an_unknown_account_are_404(auth, client, path):
    auth.login("manager")
    assert client.get(path).status_code == 404
