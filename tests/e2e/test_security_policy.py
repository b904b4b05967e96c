"""The browser tests run with the Content-Security-Policy on: what it blocks is caught, and conftest's page
fixture fails the test whose pages caused it."""

from playwright.sync_api import Page, expect


def test_the_policy_blocks_an_inline_script_and_style_and_the_tests_see_it(page: Page, csp_violations):
    page.goto("/login")
    page.evaluate("""() => {
        const script = document.createElement('script');
        script.textContent = 'document.body.dataset.injected = "ran"';
        document.body.appendChild(script);
        document.body.insertAdjacentHTML('beforeend', '<p id="styled" style="color: rgb(255, 0, 0)">x</p>');
    }""")
    expect(page.locator("#styled")).to_be_attached()
    page.wait_for_timeout(200)
    assert page.evaluate("() => document.body.dataset.injected") is None  # the inline script did not run
    assert page.evaluate("() => getComputedStyle(document.getElementById('styled')).color") != "rgb(255, 0, 0)"
    assert any("script-src" in v for v in csp_violations), csp_violations
    assert any("style-src" in v for v in csp_violations), csp_violations
    csp_violations.clear()  # seen on purpose: the page fixture fails a test only for violations it did not expect

