"""Browser tests: Debian's chromium driven by Playwright against the app served on a loopback port.

Every test here is marked ``e2e``. A failing test that used ``page`` leaves a screenshot in
test-artifacts/<test name>.png; the tests also save their own screenshots and PDFs of the printed
pages there, to look at the layout."""

import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from crm.extensions import db
from tests import factories

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct-horse-42"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Without the executable path Playwright looks for its own download, which is not installed.
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


class _QuietHandler(WSGIRequestHandler):
    """No access-log line per request (errors are still logged)."""

    def log_request(self, code="-", size="-"):
        pass


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def base_url(live_server):
    """pytest-playwright hands this to every browser context: page.goto("/login") works."""
    return live_server


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": DESKTOP, "locale": "en-GB"}


# Every page reports what the Content-Security-Policy blocked (an inline script or style, a foreign image) to the
# console, where the csp_violations fixture collects it.
_REPORT_CSP_VIOLATIONS_JS = """document.addEventListener('securitypolicyviolation', e => console.error(
  'CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.documentURI
  + (e.sample ? ' (' + e.sample + ')' : '')));"""


@pytest.fixture
def csp_violations(context) -> list[str]:
    """What the policy blocked on the test's pages: its own 'securitypolicyviolation' events and the browser's
    "Refused to ..." console messages."""
    found: list[str] = []
    context.add_init_script(_REPORT_CSP_VIOLATIONS_JS)
    context.on("console", lambda message: found.append(message.text) if (
        "CSP violation" in message.text or "Content Security Policy" in message.text) else None)
    return found


@pytest.fixture
def page(csp_violations, page):
    # Fail in seconds, not after Playwright's default 30 s, when something is missing.
    page.set_default_timeout(5_000)
    yield page
    # The browser tests run with the policy on: a page that needs something the policy forbids fails its test.
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(csp_violations)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def staff_user(app):
    """Create an active staff account in the database (committed, so the server sees it)."""

    def create(role: str, username: str, full_name: str | None = None) -> str:
        with app.app_context():
            factories.staff(role=role, username=username, full_name=full_name, password=PASSWORD)
            db.session.commit()
            db.session.remove()
        return username

    return create


@pytest.fixture
def login(page):
    """Log in through the login form, as a person would."""

    def do_login(username: str, password: str = PASSWORD):
        page.goto("/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()

    return do_login


_UNLABELLED_FIELDS_JS = """() => [...document.querySelectorAll(
    'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea')]
  .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id || el.outerHTML)"""


def assert_every_field_labelled(page) -> None:
    """Every form control on the page has a label a screen reader (and get_by_label) can find."""
    unlabelled = page.evaluate(_UNLABELLED_FIELDS_JS)
    assert not unlabelled, f"fields without a label on {page.url}: {unlabelled}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    page = getattr(item, "funcargs", {}).get("page")
    if page is None or page.is_closed():
        return
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", item.name) + ".png")
    try:
        page.screenshot(path=str(path), full_page=True)
    except Exception as exc:  # the report of the real failure matters more than the screenshot
        report.sections.append(("e2e screenshot", f"could not save {path}: {exc!r}"))
    else:
        report.sections.append(("e2e screenshot", str(path)))
