"""Settings. Every production value comes from the environment."""

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent
DEV_SECRET_KEY = "dev-only-secret-key-change-me"
MIN_SECRET_KEY_BYTES = 32


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _default_database_url() -> str:
    return "sqlite:///" + str(BASE_DIR / "instance" / "crm.sqlite3")


# SHOP_COUNTRY sets the four together; each of CURRENCY, PHONE_REGION, SHOP_TIMEZONE and DEFAULT_LOCALE still
# overrides its own. Without SHOP_COUNTRY: hryvnia, Ukrainian numbers, Kyiv time, an English interface.
COUNTRIES = {
    "UA": {"CURRENCY": "UAH", "PHONE_REGION": "UA", "SHOP_TIMEZONE": "Europe/Kyiv", "DEFAULT_LOCALE": "uk"},
    "MD": {"CURRENCY": "MDL", "PHONE_REGION": "MD", "SHOP_TIMEZONE": "Europe/Chisinau", "DEFAULT_LOCALE": "ro"},
    "RO": {"CURRENCY": "RON", "PHONE_REGION": "RO", "SHOP_TIMEZONE": "Europe/Bucharest", "DEFAULT_LOCALE": "ro"},
}
_NO_COUNTRY = {"CURRENCY": "UAH", "PHONE_REGION": "UA", "SHOP_TIMEZONE": "Europe/Kyiv", "DEFAULT_LOCALE": "en"}
# The languages the interface, the customer's pages and messages speak (crm/translations has a catalogue each).
LANGUAGES = ["en", "uk", "ru", "ro"]


def country_setting(name: str) -> str:
    """A shop setting from the environment, else from SHOP_COUNTRY's defaults, else the built-in one."""
    country = COUNTRIES.get(os.environ.get("SHOP_COUNTRY", "").strip().upper(), _NO_COUNTRY)
    return os.environ.get(name, "").strip() or country[name]


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _default_database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    SHOP_NAME = os.environ.get("SHOP_NAME", "Repair Shop")
    SHOP_ADDRESS = os.environ.get("SHOP_ADDRESS", "")
    SHOP_PHONE = os.environ.get("SHOP_PHONE", "")
    CURRENCY = country_setting("CURRENCY")
    PHONE_REGION = country_setting("PHONE_REGION")
    SHOP_TIMEZONE = country_setting("SHOP_TIMEZONE")
    BABEL_DEFAULT_LOCALE = country_setting("DEFAULT_LOCALE")
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = LANGUAGES
    # Base of every link a customer gets (tracking QR code, messages, unsubscribe). Required in production;
    # in development it defaults to the development server (crm.links.DEV_BASE); never the request's Host header.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").strip()
    ORDER_NUMBER_PREFIX = os.environ.get("ORDER_NUMBER_PREFIX", "R-")
    DEFAULT_WARRANTY_DAYS = int(os.environ.get("DEFAULT_WARRANTY_DAYS", "90"))
    # Charged when a customer declines a quote, in minor units of CURRENCY (0: no fee); billed at pickup as a
    # "Diagnostics" work line. A tier with free diagnostics pays none.
    DIAGNOSTIC_FEE_MINOR = int(os.environ.get("DIAGNOSTIC_FEE_MINOR", "0"))
    SALE_NUMBER_PREFIX = os.environ.get("SALE_NUMBER_PREFIX", "S-")
    REFUND_NUMBER_PREFIX = os.environ.get("REFUND_NUMBER_PREFIX", "RF-")
    # Comma-separated codes; cash, card and bank_transfer have translated labels, others show as written.
    PAYMENT_METHODS = [m.strip() for m in os.environ.get("PAYMENT_METHODS", "cash,card,bank_transfer").split(",")
                       if m.strip()]
    # Printed on sale receipts under the repair's warranty period.
    WARRANTY_TERMS = os.environ.get(
        "WARRANTY_TERMS",
        "The warranty covers the work done and the parts fitted. It does not cover physical or liquid damage "
        "or repairs by others. Bring this receipt with the device.")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    # Strict-Transport-Security on every response (crm/security_headers.py): only when production is served over
    # HTTPS for good (README "Production"); browsers then refuse plain HTTP to the host for HSTS_MAX_AGE seconds.
    HSTS_ENABLED = _bool("HSTS_ENABLED", False)
    HSTS_MAX_AGE = int(os.environ.get("HSTS_MAX_AGE", str(365 * 24 * 3600)))
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 1 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    # Calls per API token (crm/api); a sync of a few thousand rows at 200 a page stays well within it.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")
    WIDGET_RATE_LIMIT = os.environ.get("WIDGET_RATE_LIMIT", "10 per minute")  # widget look-ups per address
    API_MAX_BODY_BYTES = 64 * 1024  # a request body to the API larger than this is refused (413)
    TRACKING_RATE_LIMIT = os.environ.get("TRACKING_RATE_LIMIT", "30 per minute")
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
    LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
    # Number of proxies in front of the app (nginx: 1) so the client address is the real one.
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))

    # Notifications. A channel is used when configured; see README "Notifications".
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_SECURITY = os.environ.get("MAIL_SECURITY", "none")  # none | starttls | ssl
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "shop@localhost")
    SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
    SMS_GATEWAY_AUTH_HEADER = os.environ.get("SMS_GATEWAY_AUTH_HEADER", "")
    SMS_GATEWAY_BODY = os.environ.get("SMS_GATEWAY_BODY", '{"to": "{to}", "text": "{text}"}')
    SMS_GATEWAY_ID_FIELD = os.environ.get("SMS_GATEWAY_ID_FIELD", "")
    SMS_SENDER = os.environ.get("SMS_SENDER", "")
    TELEGRAM_BOT_TOKEN = os.environ.get("TELEGRAM_BOT_TOKEN", "")
    TELEGRAM_BOT_USERNAME = os.environ.get("TELEGRAM_BOT_USERNAME", "")
    TELEGRAM_API_BASE = os.environ.get("TELEGRAM_API_BASE", "https://api.telegram.org")
    # Telegram sends this in X-Telegram-Bot-Api-Secret-Token with every webhook call (setWebhook's secret_token).
    TELEGRAM_WEBHOOK_SECRET = os.environ.get("TELEGRAM_WEBHOOK_SECRET", "")
    # Days the one-time code of a receipt's Telegram /start link works (longer than a repair waits for parts).
    TELEGRAM_CODE_DAYS = int(os.environ.get("TELEGRAM_CODE_DAYS", "90"))
    # Languages the manager can write message templates in (a customer's language picks one).
    MESSAGE_LANGUAGES = [code.strip() for code in os.environ.get("MESSAGE_LANGUAGES", ",".join(LANGUAGES)).split(",")
                         if code.strip()]
    # An unsubscribe link stops working this many days after its message was written (then its page says
    # how to opt out at the shop).
    UNSUBSCRIBE_LINK_DAYS = int(os.environ.get("UNSUBSCRIBE_LINK_DAYS", "180"))
    NOTIFY_RETRY_BASE_SECONDS = int(os.environ.get("NOTIFY_RETRY_BASE_SECONDS", "60"))
    # Webhooks (README "Webhooks"): seconds a receiver has to answer; plain http:// only to this computer (loopback),
    # never in production.
    WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "5"))
    WEBHOOK_ALLOW_HTTP_LOOPBACK = True
    # Development only: run the scheduler inside the web process (never under gunicorn).
    SCHEDULER_IN_WEB = _bool("SCHEDULER_IN_WEB", False)

    # Feedback: the request goes out this many days after pickup; the customer may change their rating for this
    # many days after giving it; after a rating of 4-5 the page offers REVIEW_URL (e.g. the shop's Google Maps
    # review page), when set.
    FEEDBACK_REQUEST_DAYS = int(os.environ.get("FEEDBACK_REQUEST_DAYS", "2"))
    FEEDBACK_CHANGE_DAYS = int(os.environ.get("FEEDBACK_CHANGE_DAYS", "3"))
    REVIEW_URL = os.environ.get("REVIEW_URL", "").strip()
    # Reports: a member is active with a paid sale in this many days before the end of the report's range.
    REPORT_ACTIVE_DAYS = int(os.environ.get("REPORT_ACTIVE_DAYS", "90"))
    # The daily backup job (SQLite only; README "Backups"): the folder (empty: "backups" beside the database file)
    # and how many of its daily copies to keep (the oldest beyond that are deleted; at least 1).
    BACKUP_DIR = os.environ.get("BACKUP_DIR", "").strip()
    BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", "14"))

    BOOTSTRAP_SERVE_LOCAL = True
    PAGE_SIZE = 25


    PRODUCTION = False


class DevelopmentConfig(Config):
    DEBUG = True


class ProductionConfig(Config):
    PRODUCTION = True
    WEBHOOK_ALLOW_HTTP_LOOPBACK = False
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    RATELIMIT_ENABLED = True
    LOGIN_RATE_LIMIT = "1000 per minute"
    TRACKING_RATE_LIMIT = "1000 per minute"
    WIDGET_RATE_LIMIT = "1000 per minute"
    PUBLIC_BASE_URL = "https://crm.example.test"
    # The suite's expectations do not follow the machine's SHOP_COUNTRY or DEFAULT_LOCALE.
    CURRENCY, PHONE_REGION, SHOP_TIMEZONE, BABEL_DEFAULT_LOCALE = "UAH", "UA", "Europe/Kyiv", "en"


def public_base_url_problem(url: str) -> str | None:
    """Why PUBLIC_BASE_URL cannot be the base of the links customers get, or None when it can."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is no port
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.username is not None
            or parts.query or parts.fragment or any(ch.isspace() or not ch.isprintable() for ch in url)):
        return (f"PUBLIC_BASE_URL must be an absolute http(s) address such as https://repair.example.com "
                f"(no user name, query or fragment); it is {url!r}.")
    return None


def review_url_problem(url: str) -> str | None:
    """Why REVIEW_URL cannot be the review link the customer's page offers (it becomes an href), or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if url and (parts is None or parts.scheme not in ("http", "https") or not parts.netloc
                or any(ch.isspace() or not ch.isprintable() for ch in url)):
        return f"REVIEW_URL must be an absolute http(s) address such as https://g.page/r/...; it is {url!r}."
    return None


def settings_problems(settings: Mapping) -> list[str]:
    """What stops the app from starting with these settings; empty when nothing does. Production needs a
    real SECRET_KEY of at least MIN_SECRET_KEY_BYTES bytes and PUBLIC_BASE_URL: without it links in messages
    and on receipts would be built from the request's Host header, which any client chooses."""
    problems = []
    url = settings.get("PUBLIC_BASE_URL") or ""
    if url:
        problems.append(public_base_url_problem(url))
    problems.append(review_url_problem(settings.get("REVIEW_URL") or ""))
    if settings.get("PRODUCTION"):
        key = settings.get("SECRET_KEY") or ""
        if key == DEV_SECRET_KEY or not key:
            problems.append("SECRET_KEY is missing or the development key: set SECRET_KEY to a long random string.")
        elif len(key.encode() if isinstance(key, str) else key) < MIN_SECRET_KEY_BYTES:
            problems.append(f"SECRET_KEY is shorter than {MIN_SECRET_KEY_BYTES} bytes: set a long random string, "
                            "e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))'.")
        if not url:
            problems.append("PUBLIC_BASE_URL is not set: set it to the address customers open, "
                            "e.g. https://repair.example.com.")
    return [problem for problem in problems if problem]


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}
