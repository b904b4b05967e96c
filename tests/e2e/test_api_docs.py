"""The API's documentation page draws the generated OpenAPI document with the vendored Swagger UI, offline and
within the Content-Security-Policy (the page fixture fails the test on any violation)."""

from playwright.sync_api import Page, expect


def test_the_api_documentation_page_lists_the_endpoints(page: Page):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto("/api/v1/docs")
    expect(page.get_by_text("Repair-shop CRM API")).to_be_visible()
    expect(page.get_by_text("/api/v1/orders/{order_id}", exact=True)).to_be_visible()
    base = page.url.split("/api/")[0]
    assert all(url.startswith(base) or url.startswith("data:") for url in requests), requests
