"""Browser hardening headers on every response (staff pages, the customer's public pages, error pages, static files).

The Content-Security-Policy lets the page load only the app's own scripts, styles, images and fonts: the templates
carry no inline script, no event-handler attribute (onclick=...), no <style> block and no style="" attribute, so
neither script-src nor style-src needs 'unsafe-inline' or a nonce. Images also allow data: URIs: the receipts' QR
code is an SVG data: URI (crm.receipts.qr_code) and Bootstrap's CSS draws its icons (select arrow, navbar toggler,
form validation marks) as data: SVGs. Nothing may frame a page (frame-ancestors 'none', and X-Frame-Options for
older browsers); forms post only to the app. A view that sets one of these headers itself keeps its own value
(the tracking page sends Referrer-Policy: no-referrer, its URL carrying the secret token).

HSTS is sent only when HSTS_ENABLED is set: the browser then refuses plain HTTP to the host for HSTS_MAX_AGE
seconds, so it belongs only where production is served behind TLS for good."""

from flask import Flask

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def response_headers(hsts_enabled: bool, hsts_max_age: int) -> dict[str, str]:
    """The hardening headers a response gets under these settings."""
    headers = dict(HEADERS)
    if hsts_enabled:
        headers["Strict-Transport-Security"] = f"max-age={hsts_max_age}; includeSubDomains"
    return headers


def register(app: Flask) -> None:
    """Add the headers to every response the app sends (set once at start-up from the app's settings)."""
    headers = response_headers(bool(app.config.get("HSTS_ENABLED")), int(app.config.get("HSTS_MAX_AGE", 0)))

    @app.after_request
    def add_security_headers(response):
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
