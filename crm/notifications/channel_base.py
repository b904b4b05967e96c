"""What every delivery channel shares: the message and result types, ChannelError, and helpers
for reading settings, quoting errors without secrets and POSTing JSON. Standard library only."""

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

REASON_MAX = 300  # characters kept of a failure reason
BODY_EXCERPT = 200  # characters of a gateway's answer quoted in a reason
RESPONSE_MAX = 65536  # bytes read of an HTTP answer; gateways answer with a few hundred


@dataclass(frozen=True)
class OutgoingMessage:
    message_id: str  # stable id from the outbox row, e.g. "42"
    to: str  # e-mail address, E.164 phone or Telegram chat id
    subject: str
    text: str
    html: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # extra e-mail headers such as List-Unsubscribe


@dataclass(frozen=True)
class SendResult:
    provider_id: str | None


class ChannelError(Exception):
    """A failed send. permanent=True: retrying the same message cannot help (recipient refused,
    chat not found); False: it may work later (server down, rate limit, configuration to fix)."""

    def __init__(self, reason: str, *, permanent: bool = False):
        reason = shorten(reason, REASON_MAX)
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Channel(Protocol):
    name: str

    @property
    def configured(self) -> bool: ...

    def send(self, message: OutgoingMessage) -> SendResult: ...


def shorten(text: str, limit: int) -> str:
    """One line (newlines from server answers would break the outbox list), at most `limit` chars."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Blank every secret out of a text; done before any shortening so no fragment survives."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class Settings:
    """Reads one channel's keys; a malformed value is remembered as a problem rather than raised."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self.problems: list[str] = []

    def text(self, key: str, default: str = "") -> str:
        value = self.config.get(key)
        return default if value is None or str(value).strip() == "" else str(value).strip()

    def number(self, key: str, default: float, kind: type = float, maximum: float = 600) -> Any:
        raw = self.config.get(key)
        if raw is None or str(raw).strip() == "":
            return default
        try:
            value = kind(raw)
        except (TypeError, ValueError):
            value = 0
        if not 0 < value <= maximum:  # also catches NaN, which the socket layer would reject later
            self.problems.append(f"{key} must be a number above 0 and at most {maximum:g}")
            return default
        return value

    def http_url(self, key: str, default: str = "") -> str:
        url = self.text(key, default)
        if url and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            self.problems.append(f"{key} must start with http:// or https://")
        return url

    @property
    def error(self) -> str | None:
        return "Settings to fix: " + "; ".join(self.problems) if self.problems else None


def describe_error(exc: BaseException) -> str:
    """A network error in a few words; URLError hides the useful part in .reason."""
    if isinstance(exc, urllib.error.URLError):
        if not isinstance(exc.reason, BaseException):
            return str(exc.reason)
        exc = exc.reason
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted ({exc.verify_message})"
    return str(exc) or type(exc).__name__


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would follow a redirect of a POST as a GET without the body and call it a success."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post_json(url: str, body: Any, headers: Mapping[str, str], timeout: float) -> tuple[int, bytes]:
    """POST `body` as JSON and return (status, answer) for any HTTP status.

    Raises OSError (URLError, timeouts) or HTTPException when no HTTP answer came back."""
    return post(url, json.dumps(body).encode(), {"Content-Type": "application/json", "Accept": "application/json",
                                                 **headers}, timeout)


def post(url: str, data: bytes, headers: Mapping[str, str], timeout: float) -> tuple[int, bytes]:
    """POST these exact bytes (a signed body must go out as signed) without following redirects; (status, answer)
    for any HTTP status. Raises OSError (URLError, timeouts) or HTTPException when no HTTP answer came back."""
    request = urllib.request.Request(url, data=data, method="POST", headers=dict(headers))
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read(RESPONSE_MAX)
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, exc.read(RESPONSE_MAX)
        finally:
            exc.close()  # it holds the connection open; an unclosed one warns later


def json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def as_text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def dig(data: Any, dotted: str) -> str | None:
    """The value at a dotted path ("data.id", "messages.0.id") as text, or None when absent."""
    for part in dotted.split("."):
        if isinstance(data, Mapping):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    if isinstance(data, bool) or not isinstance(data, str | int):
        return None
    return str(data)
