"""SMS through any HTTP gateway that takes a JSON POST; the body's shape comes from settings."""

import json
import re
from collections.abc import Mapping
from http.client import HTTPException
from typing import Any

from .channel_base import (
    BODY_EXCERPT,
    ChannelError,
    OutgoingMessage,
    SendResult,
    Settings,
    as_text,
    describe_error,
    dig,
    json_or_none,
    post_json,
    scrub,
    shorten,
)

DEFAULT_SMS_BODY = '{"to": "{to}", "text": "{text}"}'

_PLACEHOLDER = re.compile(r"\{(to|text|id|sender)\}")


def fill_placeholders(shape: Any, values: Mapping[str, str]) -> Any:
    """Substitute {to} {text} {id} {sender} in every string value of a parsed JSON shape, at any
    depth; done on the structure, not the JSON text, so quotes in a message cannot break it.
    One pass: a message that itself contains "{to}" stays as written."""
    if isinstance(shape, str):
        return _PLACEHOLDER.sub(lambda match: values[match.group(1)], shape)
    if isinstance(shape, Mapping):
        return {key: fill_placeholders(value, values) for key, value in shape.items()}
    if isinstance(shape, list):
        return [fill_placeholders(value, values) for value in shape]
    return shape


def _http_permanent(status: int) -> bool:
    """Client errors are final except timeouts and rate limits; redirects and 5xx may pass later."""
    return 400 <= status < 500 and status not in (408, 425, 429)


class SmsChannel:
    """SMS through any HTTP gateway that takes a JSON POST; the body's shape comes from settings."""

    name = "sms"

    def __init__(self, config: Mapping[str, Any]):
        settings = Settings(config)
        self.url = settings.http_url("SMS_GATEWAY_URL")
        self.auth_header: tuple[str, str] | None = None
        raw_header = settings.text("SMS_GATEWAY_AUTH_HEADER")
        if raw_header:
            header_name, _, value = raw_header.partition(":")
            if header_name.strip() and value.strip():
                self.auth_header = (header_name.strip(), value.strip())
            else:
                settings.problems.append('SMS_GATEWAY_AUTH_HEADER must look like "Name: value"')
        self.body_shape = self._body_shape(config.get("SMS_GATEWAY_BODY"), settings)
        self.sender = settings.text("SMS_SENDER")
        self.id_field = settings.text("SMS_GATEWAY_ID_FIELD")
        self.timeout = settings.number("SMS_TIMEOUT", 10)
        self.config_error = settings.error

    @staticmethod
    def _body_shape(raw: Any, settings: Settings) -> Any:
        if isinstance(raw, Mapping):  # already parsed, e.g. set from Python
            return dict(raw)
        shape = json_or_none(str(raw).encode()) if raw not in (None, "") else json.loads(DEFAULT_SMS_BODY)
        if not isinstance(shape, dict):
            settings.problems.append("SMS_GATEWAY_BODY must be a JSON object")
        return shape

    @property
    def configured(self) -> bool:
        return bool(self.url)

    def send(self, message: OutgoingMessage) -> SendResult:
        if not self.configured:
            raise ChannelError("SMS is not set up (SMS_GATEWAY_URL is empty)")
        if self.config_error:
            raise ChannelError(self.config_error)
        body = fill_placeholders(self.body_shape, {
            "to": message.to, "text": message.text, "id": message.message_id, "sender": self.sender})
        # The gateway can drop a second POST carrying the same key (a retry after a lost answer).
        headers = {"Idempotency-Key": f"outbox-{message.message_id}"}
        if self.auth_header:
            headers[self.auth_header[0]] = self.auth_header[1]
        try:
            status, answer = post_json(self.url, body, headers, self.timeout)
        except (OSError, HTTPException, ValueError) as exc:  # ValueError: a URL urllib cannot use
            raise self._error(f"SMS gateway unreachable: {describe_error(exc)}") from None
        if not 200 <= status < 300:
            excerpt = shorten(self._scrub(as_text(answer)), BODY_EXCERPT)
            raise self._error(f"SMS gateway answered HTTP {status}: {excerpt}", permanent=_http_permanent(status))
        provider_id = dig(json_or_none(answer), self.id_field) if self.id_field else None
        return SendResult(provider_id=provider_id)

    def _scrub(self, text: str) -> str:
        return scrub(text, (self.auth_header[1],) if self.auth_header else ())

    def _error(self, reason: str, permanent: bool = False) -> ChannelError:
        return ChannelError(self._scrub(reason), permanent=permanent)
