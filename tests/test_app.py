"""App plumbing: health check, production safety, error pages, request size limit and the CLI."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

import config
from crm import create_app
from crm.auth.access import public
from crm.auth.models import Role, StaffUser
from crm.auth.passwords import verify_password
from crm.customers.models import Customer
from crm.demo import DEMO_LOGINS
from crm.extensions import db
from crm.orders.models import RepairOrder
from tests.conftest import csrf_token

# argon2id at its real cost is checked in tests/auth/test_auth_service.py; here it would only be slow.
pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
def make_app():
    """Build extra apps for one test and release their database connections afterwards."""
    built = []

    def build(config_name="test", **overrides):
        new_app = create_app(config_name, **overrides)
        built.append(new_app)
        return new_app

    yield build
    for extra in built:
        with extra.app_context():
            db.session.remove()
            db.engine.dispose()


# --- health check -------------------------------------------------------------------------------------------------


def test_healthz_answers_ok_as_json_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json()["status"] == "ok"


UNREACHABLE_DATABASES = [
    pytest.param("sqlite:///" + os.path.join(tempfile.gettempdir(), "no-such-dir-crm", "x", "db.sqlite3"), id="sqlite"),
    pytest.param("postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=3", id="postgresql"),
]


@pytest.mark.parametrize("url", UNREACHABLE_DATABASES)
def test_healthz_answers_503_as_json_when_the_database_does_not_answer(make_app, url):
    down = make_app("test", SQLALCHEMY_DATABASE_URI=url)
    response = down.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.is_json
    assert response.get_json()["status"] == "error"


# --- configuration ------------------------------------------------------------------------------------------------


PRODUCTION = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "a-real-secret-from-the-environment-0123",
              "PUBLIC_BASE_URL": "https://repair.example.com"}


def test_production_refuses_the_development_secret_key(monkeypatch):
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", config.DEV_SECRET_KEY)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://", PUBLIC_BASE_URL="https://repair.example.com")


@pytest.mark.parametrize("key", [config.DEV_SECRET_KEY, "", None])
def test_production_refuses_a_missing_or_development_secret_key_given_as_override(key):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", **{**PRODUCTION, "SECRET_KEY": key})


@pytest.mark.parametrize("key", ["short-key", "x" * 31, "ключ" * 3 + "1234567"])  # the last: 31 bytes, 19 letters
def test_production_refuses_a_secret_key_shorter_than_32_bytes(key):
    with pytest.raises(RuntimeError, match="SECRET_KEY is shorter than 32 bytes"):
        create_app("production", **{**PRODUCTION, "SECRET_KEY": key})


@pytest.mark.parametrize("key", ["x" * 32, "ключ" * 4])  # 32 bytes each
def test_production_takes_a_secret_key_of_32_bytes(make_app, key):
    assert make_app("production", **{**PRODUCTION, "SECRET_KEY": key}).config["SECRET_KEY"] == key


def test_production_starts_with_a_real_secret_key(make_app, monkeypatch):
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "a-real-secret-from-the-environment")
    production = make_app("production", SQLALCHEMY_DATABASE_URI="sqlite://",
                          PUBLIC_BASE_URL="https://repair.example.com")
    assert not production.debug and not production.testing
    assert production.config["SESSION_COOKIE_HTTPONLY"] is True


@pytest.mark.parametrize("url", ["", None])
def test_production_refuses_to_start_without_a_public_base_url(url):
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL is not set"):
        create_app("production", **{**PRODUCTION, "PUBLIC_BASE_URL": url})


NOT_A_BASE_URL = ["repair.example.com", "//repair.example.com", "ftp://repair.example.com", "https://",
                  "javascript:alert(1)", "https://repair.example.com/?x=1", "https://repair.example.com/#top",
                  "https://user:pw@repair.example.com", "https://repair.example.com:99999",
                  "https://repair example.com", "https://repair.example.com/\n", "http://[::1"]


@pytest.mark.parametrize("config_name", ["production", "development"])
@pytest.mark.parametrize("url", NOT_A_BASE_URL)
def test_a_public_base_url_that_is_not_an_absolute_http_address_is_refused_at_start(config_name, url):
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL must be an absolute http"):
        create_app(config_name, **{**PRODUCTION, "PUBLIC_BASE_URL": url})


@pytest.mark.parametrize("url", ["https://repair.example.com", "http://127.0.0.1:8000", "https://example.com/crm/"])
def test_production_takes_an_absolute_http_public_base_url(make_app, url):
    assert make_app("production", **{**PRODUCTION, "PUBLIC_BASE_URL": url}).config["PUBLIC_BASE_URL"] == url


def test_links_for_customers_use_the_public_base_url_whatever_host_the_request_names(make_app):
    from crm.links import public_url

    production = make_app("production", **PRODUCTION)
    with production.test_request_context("/sales/1/receipt", base_url="http://evil.example"):
        assert public_url("/t/abc") == "https://repair.example.com/t/abc"


def test_in_development_links_default_to_the_development_server_never_the_request_host(make_app):
    """A page, a service and a job build the same link; the Host header a client sends is never its base."""
    from crm.links import public_url

    development = make_app("development", SQLALCHEMY_DATABASE_URI="sqlite://", PUBLIC_BASE_URL="")
    with development.test_request_context("/", base_url="http://evil.example"):
        assert public_url("/t/abc") == "http://localhost:5000/t/abc"
    with development.app_context():  # a job, outside any request
        assert public_url("/t/abc") == "http://localhost:5000/t/abc"


# --- error pages --------------------------------------------------------------------------------------------------


def assert_error_page(response, status: int, heading: str):
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert heading in html
    assert "Traceback" not in html
    assert "<html" in html  # the site's page, not Werkzeug's bare one


def test_unknown_url_renders_the_404_page(client):
    assert_error_page(client.get("/no/such/page"), 404, "Not found")


def test_unknown_order_renders_the_404_page(auth, client):
    auth.login("manager")
    assert_error_page(client.get("/orders/999999"), 404, "Not found")


def test_order_id_beyond_the_integer_column_renders_the_404_page(auth, client):
    auth.login("manager")
    assert_error_page(client.get(f"/orders/{2**40}"), 404, "Not found")


def test_wrong_method_renders_the_405_page(client):
    assert_error_page(client.delete("/login"), 405, "Not allowed here")


def test_oversized_post_renders_the_413_page(app, client):
    token = csrf_token(client, "/login")
    too_big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/login", data={"username": too_big, "password": "x", "csrf_token": token})
    assert_error_page(response, 413, "Too much data")


def test_an_unexpected_error_renders_the_500_page(make_app):
    broken = make_app("test", TESTING=False, PROPAGATE_EXCEPTIONS=False, SQLALCHEMY_DATABASE_URI="sqlite://")

    def boom():
        raise RuntimeError("a bug")

    broken.add_url_rule("/boom", "boom", public(boom))
    assert_error_page(broken.test_client().get("/boom"), 500, "Something went wrong")


# --- CLI ----------------------------------------------------------------------------------------------------------


def create_user(app, *args):
    return app.test_cli_runner().invoke(args=["crm", "create-user", *args])


def staff_by_username(app, username):
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        if user is not None:
            db.session.expunge(user)
        db.session.remove()
        return user


def test_cli_create_user_creates_an_account_that_can_log_in(app):
    result = create_user(app, "--username", "owner", "--full-name", "Shop Owner", "--role", "manager",
                         "--password", "a-long-password")
    assert result.exit_code == 0, result.output
    assert "Created manager account 'owner'." in result.output
    user = staff_by_username(app, "owner")
    assert (user.full_name, user.role, user.is_active_account) == ("Shop Owner", Role.MANAGER, True)
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "a-long-password")


def test_cli_create_user_refuses_a_duplicate_username_with_a_clear_message(app):
    first = create_user(app, "--username", "owner", "--full-name", "Shop Owner", "--role", "manager",
                        "--password", "a-long-password")
    assert first.exit_code == 0, first.output
    again = create_user(app, "--username", "OWNER", "--full-name", "Someone Else", "--role", "technician",
                        "--password", "another-long-password")
    assert again.exit_code == 1
    assert "Error: This username is already taken." in again.output
    assert staff_by_username(app, "OWNER") is None


def test_cli_create_user_refuses_a_short_password(app):
    result = create_user(app, "--username", "owner", "--full-name", "Shop Owner", "--role", "manager",
                         "--password", "short")
    assert result.exit_code == 1
    assert "at least" in result.output
    assert staff_by_username(app, "owner") is None


def test_cli_create_user_refuses_an_unknown_role(app):
    result = create_user(app, "--username", "owner", "--full-name", "Shop Owner", "--role", "owner",
                         "--password", "a-long-password")
    assert result.exit_code == 2
    assert staff_by_username(app, "owner") is None


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        result = tuple(db.session.scalar(select(func.count()).select_from(model))
                       for model in (StaffUser, Customer, RepairOrder))
        db.session.remove()
        return result


def test_cli_demo_loads_data_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["crm", "demo", "--customers", "20"])
    assert first.exit_code == 0, first.output
    assert "Demo data loaded." in first.output
    loaded = counts(app)
    staff, customers, orders = loaded
    assert (staff, customers) == (3, 20)
    assert orders > 0
    for username, password, role in DEMO_LOGINS:
        assert username in first.output
        user = staff_by_username(app, username)
        assert user.role == role and verify_password(user.password_hash, password)

    second = runner.invoke(args=["crm", "demo", "--customers", "20"])
    assert second.exit_code == 0, second.output
    assert "not loaded again" in second.output
    assert counts(app) == loaded


def test_cli_demo_refuses_to_run_in_production(app, make_app):
    production = make_app("production", **{**PRODUCTION,
                                           "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    result = production.test_cli_runner().invoke(args=["crm", "demo", "--customers", "20"])
    assert result.exit_code == 1
    assert "Refusing to load demo data in production" in result.output
    assert counts(app) == (0, 0, 0)


def test_demo_logins_work_in_the_browser(app, client):
    assert app.test_cli_runner().invoke(args=["crm", "demo", "--customers", "20"]).exit_code == 0
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"username": "desk", "password": "desk-demo-pass", "csrf_token": token})
    assert response.status_code == 302
    assert client.get("/customers").status_code == 200


def test_on_sqlite_only_writing_requests_take_the_write_lock_at_begin(app, auth, client):
    """GET pages begin a deferred (snapshot) transaction; POSTs begin with the write lock, so a
    read-check-write can never interleave with another writer. PostgreSQL uses row locks instead."""
    from sqlalchemy import event

    from crm.extensions import db
    from tests.conftest import csrf_token

    auth.login("front_desk")
    token = csrf_token(client, "/customers/new")
    begins: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("BEGIN"):
            begins.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/customers").status_code == 200
        reads = list(begins)
        begins.clear()
        response = client.post("/customers/new", data={"csrf_token": token, "phone": "067 555 12 12",
                                                       "name": "Write Lock", "service_consent": "y"})
        assert response.status_code == 302
        writes = list(begins)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    if engine.dialect.name == "sqlite":
        assert reads == ["BEGIN"]
        assert writes and set(writes) == {"BEGIN IMMEDIATE"}
    else:
        assert "BEGIN IMMEDIATE" not in reads + writes


def test_the_served_app_is_frozen_out_of_the_collectors_full_pass(tmp_path):
    """wsgi.py (what gunicorn loads) freezes the objects the app is made of: a full collection walked them all,
    ~90 ms inside whichever request set it off. Checked in a fresh interpreter: freezing here would keep every
    test's objects for the rest of the run."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'served.sqlite3'}", "CRM_CONFIG": "development"}
    probe = "import gc, wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=root, env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    frozen, left = map(int, out.stdout.split())
    assert frozen > 50_000  # the app's own objects, well over a hundred thousand
    assert left < frozen / 10  # what the collector still walks: what was made after the freeze
