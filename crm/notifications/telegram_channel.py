"""Telegram through the Bot API: sending from the shop's bot, and reading "/start CODE" and "/confirm CODE"
updates."""

import json
import re
import urllib.parse
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


class TelegramChannel:
    """Messages from the shop's bot to a chat that linked itself with /start CODE."""

    name = "telegram"

    def __init__(self, config: Mapping[str, Any]):
        settings = Settings(config)
        self.token = settings.text("TELEGRAM_BOT_TOKEN")
        self.api_base = settings.http_url("TELEGRAM_API_BASE", "https://api.telegram.org").rstrip("/")
        self.timeout = settings.number("TELEGRAM_TIMEOUT", 10)
        self.config_error = settings.error

    @property
    def configured(self) -> bool:
        return bool(self.token)

    def send(self, message: OutgoingMessage) -> SendResult:
        text = f"{message.subject}\n\n{message.text}" if message.subject.strip() else message.text
        status, data, answer = self._call("sendMessage", {"chat_id": message.to, "text": text,
                                                          "disable_web_page_preview": True})
        if 200 <= status < 300 and data.get("ok") is not False:
            return SendResult(provider_id=dig(data, "result.message_id"))
        raise self._refusal(status, data, answer)

    def get_updates(self, offset: int, limit: int = 100) -> list:
        """The bot's new updates from ``offset`` on (getUpdates: for a shop without a public address for
        the webhook). Asking with an offset confirms every earlier update to Telegram."""
        status, data, answer = self._call("getUpdates", {"offset": offset, "limit": limit, "timeout": 0,
                                                         "allowed_updates": ["message"]})
        if 200 <= status < 300 and data.get("ok") is True and isinstance(data.get("result"), list):
            return [update for update in data["result"] if isinstance(update, Mapping)]
        raise self._refusal(status, data, answer)

    def _call(self, method: str, body: dict) -> tuple[int, dict, bytes]:
        """POST one Bot API method: (HTTP status, the answer's JSON object or {}, the raw answer)."""
        if not self.configured:
            raise ChannelError("Telegram is not set up (TELEGRAM_BOT_TOKEN is empty)")
        if self.config_error:
            raise ChannelError(self.config_error)
        url = f"{self.api_base}/bot{urllib.parse.quote(self.token, safe=':')}/{method}"
        try:
            status, answer = post_json(url, body, {}, self.timeout)
        except (OSError, HTTPException, ValueError) as exc:
            # `from None`: the cause would carry the URL, and with it the token, into logs.
            raise self._error(f"Telegram unreachable: {describe_error(exc)}") from None
        data = json_or_none(answer)
        return status, data if isinstance(data, dict) else {}, answer

    def _refusal(self, status: int, data: dict, answer: bytes) -> ChannelError:
        """400 (chat not found, bad text) and 403 (bot blocked) concern this chat and stay so;
        401/404 mean a wrong token, 429 and 5xx a busy Telegram: both may pass later."""
        code = data.get("error_code")
        code = code if isinstance(code, int) and not isinstance(code, bool) else status
        description = data.get("description")
        if not isinstance(description, str):
            description = shorten(self._scrub(as_text(answer)), BODY_EXCERPT)
        reason = f"Telegram refused the message ({code}): {description}"
        retry_after = dig(data, "parameters.retry_after")
        if retry_after:
            reason += f"; retry after {retry_after} s"
        return self._error(reason, permanent=code in (400, 403))

    def _scrub(self, text: str) -> str:
        quoted = (urllib.parse.quote(self.token, safe=":"), urllib.parse.quote(self.token, safe=""))
        return scrub(text, (self.token, *quoted))

    def _error(self, reason: str, permanent: bool = False) -> ChannelError:
        return ChannelError(self._scrub(reason), permanent=permanent)


# A Telegram update is a few kilobytes at most (a 4096-character message and its metadata); a body above
# this is not one, and its JSON is never parsed.
UPDATE_MAX_BYTES = 64 * 1024


class MalformedUpdate(ValueError):
    """A webhook body that is not a Telegram update: too large, not JSON, nested too deep, not an object."""


def parse_update(body: bytes) -> dict:
    """The update posted to the webhook as a JSON object; MalformedUpdate for anything else."""
    if len(body) > UPDATE_MAX_BYTES:
        raise MalformedUpdate(f"the body is larger than {UPDATE_MAX_BYTES} bytes")
    try:
        update = json.loads(body)
    except RecursionError:  # the C decoder's answer to "[[[[...": depth beyond the interpreter's limit
        raise MalformedUpdate("the JSON is nested too deep") from None
    except ValueError:  # also UnicodeDecodeError
        raise MalformedUpdate("the body is not JSON") from None
    if not isinstance(update, dict):
        raise MalformedUpdate("the body is not a JSON object")
    return update


_COMMAND = re.compile(r"/(?:(start|confirm) ([A-Za-z0-9_-]{1,64})|(stop))")


def command_from_update(update: Any) -> tuple[str, str, str] | None:
    """(chat id, "start" or "confirm", its argument) when a Telegram update is a private chat's message
    reading "/start CODE" or "/confirm CODE", (chat id, "stop", "") for "/stop", else None.

    The update may come from the webhook, so anyone could have shaped it: any other shape is None. A group
    chat is None too: a customer's messages go to the customer, not to a group someone added the bot to."""
    message = update.get("message") if isinstance(update, Mapping) else None
    if not isinstance(message, Mapping):
        return None
    text, chat = message.get("text"), message.get("chat")
    if not isinstance(text, str) or not isinstance(chat, Mapping) or chat.get("type") != "private":
        return None
    match = _COMMAND.fullmatch(text.strip())
    chat_id = chat.get("id")
    if not match or not isinstance(chat_id, int | str):
        return None
    if not re.fullmatch(r"-?[0-9]{1,20}", str(chat_id)):  # Telegram sends numbers; True, "abc" fail here
        return None
    if match.group(3):
        return str(chat_id), "stop", ""
    return str(chat_id), match.group(1), match.group(2)
