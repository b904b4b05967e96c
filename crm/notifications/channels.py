"""Delivery channels: e-mail over SMTP, SMS through an HTTP gateway, Telegram through the Bot API.

Standard library only and nothing else from crm. A channel sends one OutgoingMessage and either
returns a SendResult or raises ChannelError, whose `permanent` flag tells the dispatcher whether a
retry can help. Reasons are stored in the outbox and shown to the manager: short plain English,
never a password, token or auth header.

A malformed setting (say MAIL_PORT = "abc") does not raise while the channels are built, so one bad
key cannot take down the other channels; that channel's send() fails with a transient error naming
the key instead (also readable as `channel.config_error`), and recovers once the setting is fixed.

This module is the public face; the channels live in email_channel, sms_channel and
telegram_channel, the shared types in channel_base."""

from collections.abc import Mapping
from typing import Any

from .channel_base import Channel, ChannelError, OutgoingMessage, SendResult
from .email_channel import EmailChannel
from .sms_channel import SmsChannel, fill_placeholders
from .telegram_channel import UPDATE_MAX_BYTES, MalformedUpdate, TelegramChannel, command_from_update, parse_update

__all__ = [
    "UPDATE_MAX_BYTES", "Channel", "ChannelError", "EmailChannel", "MalformedUpdate", "OutgoingMessage", "SendResult",
    "SmsChannel", "TelegramChannel", "channels_from_config", "command_from_update", "fill_placeholders",
    "parse_update",
]


def channels_from_config(config: Mapping[str, Any]) -> dict[str, Channel]:
    """All three channels keyed by name, configured or not; callers check `.configured`."""
    channels: list[Channel] = [EmailChannel(config), SmsChannel(config), TelegramChannel(config)]
    return {channel.name: channel for channel in channels}
