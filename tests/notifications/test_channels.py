"""Delivery channels against real servers on 127.0.0.1: aiosmtpd for e-mail, http.server for the
SMS gateway and the Telegram Bot API. Nothing is mocked."""

import json
import traceback

import pytest

from crm.notifications.channels import (
    ChannelError,
    EmailChannel,
    OutgoingMessage,
    SmsChannel,
    TelegramChannel,
    channels_from_config,
    command_from_update,
)
from tests.notifications.conftest import free_port

TOKEN = "123456789:AAE-secret_token-XYZ"


def message(**changes) -> OutgoingMessage:
    values = {"message_id": "42", "to": "ivan@example.com", "subject": "Your phone is ready",
              "text": "Hello Ivan,\nyour phone is ready for pick-up."}
    return OutgoingMessage(**{**values, **changes})


def failure(channel, outgoing: OutgoingMessage) -> ChannelError:
    with pytest.raises(ChannelError) as caught:
        channel.send(outgoing)
    return caught.value


def sms_config(recorder, **overrides) -> dict:
    return {"SMS_GATEWAY_URL": recorder.url + "/v1/sms", "SMS_TIMEOUT": 5, **overrides}


def telegram_config(recorder, **overrides) -> dict:
    return {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": recorder.url, "TELEGRAM_TIMEOUT": 5, **overrides}


# --- e-mail ---------------------------------------------------------------------------------------

def test_email_is_multipart_text_and_html_with_the_outbox_message_id(smtp_server):
    channel = EmailChannel(smtp_server.config())
    outgoing = message(html="<p>Hello Ivan, your phone is <b>ready</b>.</p>",
                       headers=(("List-Unsubscribe", "<https://shop.example/u/abc>"),))

    result = channel.send(outgoing)

    assert result.provider_id == "<outbox-42@repair.example>"
    [received] = smtp_server.messages
    assert received.mail_from == "shop@repair.example"
    assert received.rcpt_tos == ["ivan@example.com"]
    assert not received.tls and received.login is None
    mail = received.message()
    assert mail.get_content_type() == "multipart/alternative"
    assert mail["Message-ID"] == "<outbox-42@repair.example>"
    assert mail["Subject"] == "Your phone is ready"
    assert mail["From"] == "Repair shop <shop@repair.example>"
    assert mail["To"] == "ivan@example.com"
    assert mail["Date"]
    assert mail["List-Unsubscribe"] == "<https://shop.example/u/abc>"
    text, html = mail.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert text.get_content() == "Hello Ivan,\nyour phone is ready for pick-up.\n"
    assert html.get_content_type() == "text/html"
    assert "<b>ready</b>" in html.get_content()


def test_email_retry_carries_the_same_message_id(smtp_server):
    channel = EmailChannel(smtp_server.config())
    channel.send(message())
    channel.send(message())
    channel.send(message(message_id="43"))

    ids = [received.message()["Message-ID"] for received in smtp_server.messages]
    assert ids == ["<outbox-42@repair.example>", "<outbox-42@repair.example>", "<outbox-43@repair.example>"]


def test_email_without_html_is_a_single_text_part(smtp_server):
    EmailChannel(smtp_server.config(MAIL_FROM="")).send(message(subject="Ready\n"))

    mail = smtp_server.messages[0].message()
    assert mail.get_content_type() == "text/plain"
    assert mail["Subject"] == "Ready"  # a trailing newline from a template is not a header break
    assert mail["From"] == "shop@localhost"  # the default sender
    assert mail["Message-ID"] == "<outbox-42@localhost>"


def test_email_with_starttls_and_login(smtp_server_factory):
    server = smtp_server_factory(starttls=True, users={"shop": "s3cret pass"})
    channel = EmailChannel(server.config(MAIL_USERNAME="shop", MAIL_PASSWORD="s3cret pass"))

    channel.send(message())

    [received] = server.messages
    assert received.tls
    assert received.login == "shop"


def test_email_wrong_password_is_transient_and_not_quoted(smtp_server_factory):
    server = smtp_server_factory(starttls=True, users={"shop": "right"})
    channel = EmailChannel(server.config(MAIL_USERNAME="shop", MAIL_PASSWORD="wrong-Pa55"))

    error = failure(channel, message())

    assert not error.permanent  # fixing the settings lets the queued messages go
    assert "login failed" in error.reason and "535" in error.reason
    assert "wrong-Pa55" not in error.reason
    assert server.messages == []


def test_email_over_ssl(smtp_server_factory):
    server = smtp_server_factory(implicit_tls=True)

    EmailChannel(server.config()).send(message())

    [received] = server.messages
    assert received.tls


def test_email_over_ssl_refuses_an_untrusted_certificate(smtp_server_factory):
    server = smtp_server_factory(implicit_tls=True)
    config = server.config()
    del config["MAIL_SSL_CAFILE"]  # the self-signed certificate is not in the system's store

    error = failure(EmailChannel(config), message())

    assert not error.permanent
    assert "certificate" in error.reason
    assert server.messages == []


def test_smtp_down_is_a_transient_failure():
    channel = EmailChannel({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": free_port(), "MAIL_TIMEOUT": 5})

    error = failure(channel, message())

    assert not error.permanent
    assert error.reason.startswith("Could not reach the mail server 127.0.0.1:")
    assert "refused" in error.reason


def test_smtp_silent_server_times_out_as_a_transient_failure(silent_port):
    channel = EmailChannel({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": silent_port, "MAIL_TIMEOUT": 0.3})

    error = failure(channel, message())

    assert not error.permanent
    assert "timed out" in error.reason


def test_smtp_4xx_is_transient_and_5xx_is_permanent(smtp_server):
    channel = EmailChannel(smtp_server.config())

    smtp_server.refuse_with = "451 4.3.0 try later"
    later = failure(channel, message())
    smtp_server.refuse_with = "550 5.1.1 no such user"
    never = failure(channel, message())
    smtp_server.refuse_with = None
    channel.send(message())

    assert not later.permanent
    assert later.reason == "Mail server refused the recipient: 451 4.3.0 try later"
    assert never.permanent
    assert never.reason == "Mail server refused the recipient: 550 5.1.1 no such user"
    assert len(smtp_server.messages) == 1  # only the last one got through


@pytest.mark.parametrize("outgoing", [
    message(to="not an address"),
    message(to="ivan@example.com\r\nBcc: everyone@example.com"),
    message(headers=(("X-Note", "a\r\nBcc: everyone@example.com"),)),
    message(headers=(("Subject", "a second subject"),)),
    message(headers=(("Bad Name", "x"),)),
])
def test_email_that_cannot_be_written_fails_for_good_without_sending(smtp_server, outgoing):
    error = failure(EmailChannel(smtp_server.config()), outgoing)

    assert error.permanent
    assert smtp_server.messages == []


# --- SMS ------------------------------------------------------------------------------------------

def test_sms_body_shape_and_auth_header_come_from_config(http_recorder):
    shape = {"messages": [{"destination": "{to}", "content": "{text}", "from": "{sender}",
                           "reference": "outbox-{id}", "priority": 1, "flash": False}], "channel": "sms"}
    channel = SmsChannel(sms_config(http_recorder, SMS_GATEWAY_BODY=json.dumps(shape), SMS_SENDER="Shop",
                                    SMS_GATEWAY_AUTH_HEADER="Authorization: Bearer abc:def"))

    result = channel.send(message(to="+4915112345678", text="Your phone is ready."))

    assert result.provider_id is None  # no SMS_GATEWAY_ID_FIELD
    [request] = http_recorder.requests
    assert (request.method, request.path) == ("POST", "/v1/sms")
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == "Bearer abc:def"  # split on the first colon only
    assert request.headers["Idempotency-Key"] == "outbox-42"
    assert request.json == {"messages": [{"destination": "+4915112345678", "content": "Your phone is ready.",
                                          "from": "Shop", "reference": "outbox-42", "priority": 1,
                                          "flash": False}], "channel": "sms"}


def test_sms_default_body_is_to_and_text(http_recorder):
    SmsChannel(sms_config(http_recorder)).send(message(to="+4915112345678", text="Ready"))

    assert http_recorder.requests[0].json == {"to": "+4915112345678", "text": "Ready"}
    assert "Authorization" not in http_recorder.requests[0].headers


def test_sms_text_with_quotes_stays_valid_json(http_recorder):
    # Placeholders typed by the customer or the shop stay as written: one pass over the shape only.
    text = 'He said "ready", {"a": 1} \\ back\\slash, {to} {sender} {id} {text} stay, ünïcode\nnew line'
    channel = SmsChannel(sms_config(http_recorder, SMS_SENDER="Shop",
                                    SMS_GATEWAY_BODY='{"text": "{sender}: {text}", "to": "{to}"}'))

    channel.send(message(to="+49151", text=text))

    assert http_recorder.requests[0].json == {"text": "Shop: " + text, "to": "+49151"}


@pytest.mark.parametrize(("answer", "provider_id"), [
    ({"data": {"id": "abc-1"}}, "abc-1"),
    ({"data": {"id": 17}}, "17"),
    ({"data": {}}, None),
    ({"data": "x"}, None),
    ([1, 2], None),
])
def test_sms_provider_id_read_from_the_configured_field(http_recorder, answer, provider_id):
    http_recorder.respond(201, answer)
    channel = SmsChannel(sms_config(http_recorder, SMS_GATEWAY_ID_FIELD="data.id"))

    assert channel.send(message()).provider_id == provider_id


def test_sms_sent_with_an_answer_that_is_not_json(http_recorder):
    http_recorder.respond(200, text="OK queued")
    channel = SmsChannel(sms_config(http_recorder, SMS_GATEWAY_ID_FIELD="data.id"))

    assert channel.send(message()).provider_id is None  # sent all the same: 2xx is what counts


@pytest.mark.parametrize(("status", "permanent"), [
    (500, False), (503, False), (429, False), (408, False), (400, True), (401, True), (403, True), (404, True),
])
def test_sms_gateway_errors(http_recorder, status, permanent):
    http_recorder.respond(status, {"error": "nope " + "x" * 1000})

    error = failure(SmsChannel(sms_config(http_recorder)), message())

    assert error.permanent is permanent
    assert error.reason.startswith(f'SMS gateway answered HTTP {status}: {{"error": "nope xxx')
    assert len(error.reason) <= 300


def test_sms_gateway_down_is_transient():
    channel = SmsChannel({"SMS_GATEWAY_URL": f"http://127.0.0.1:{free_port()}/sms"})

    error = failure(channel, message())

    assert not error.permanent
    assert error.reason.startswith("SMS gateway unreachable:") and "refused" in error.reason


def test_sms_gateway_timeout_is_transient(silent_port):
    channel = SmsChannel({"SMS_GATEWAY_URL": f"http://127.0.0.1:{silent_port}/sms", "SMS_TIMEOUT": 0.3})

    error = failure(channel, message())

    assert not error.permanent
    assert error.reason == "SMS gateway unreachable: timed out"


def test_sms_auth_header_never_in_a_reason(http_recorder):
    http_recorder.respond(401, {"error": "bad key Bearer k3y-value-123"})
    channel = SmsChannel(sms_config(http_recorder, SMS_GATEWAY_AUTH_HEADER="Authorization: Bearer k3y-value-123"))

    error = failure(channel, message())

    assert "k3y-value-123" not in error.reason
    assert "***" in error.reason


# --- Telegram -------------------------------------------------------------------------------------

def test_telegram_send_message(http_recorder):
    http_recorder.respond(200, {"ok": True, "result": {"message_id": 555, "chat": {"id": 987}}})
    channel = TelegramChannel(telegram_config(http_recorder))

    first = channel.send(message(to="987", subject="Ready", text="Your phone is ready."))
    second = channel.send(message(to="-100123", subject=" ", text="No subject here."))

    assert first.provider_id == "555"
    assert second.provider_id == "1"  # the recorder's default answer
    request = http_recorder.requests[0]
    assert (request.method, request.path) == ("POST", f"/bot{TOKEN}/sendMessage")
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == {"chat_id": "987", "text": "Ready\n\nYour phone is ready.",
                            "disable_web_page_preview": True}
    assert http_recorder.requests[1].json["text"] == "No subject here."


@pytest.mark.parametrize(("status", "answer", "permanent", "reason"), [
    (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, True,
     "Telegram refused the message (400): Bad Request: chat not found"),
    (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}, True,
     "Telegram refused the message (403): Forbidden: bot was blocked by the user"),
    (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
           "parameters": {"retry_after": 7}}, False,
     "Telegram refused the message (429): Too Many Requests: retry after 7; retry after 7 s"),
    (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}, False,
     "Telegram refused the message (502): Bad Gateway"),
    (401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, False,  # a wrong token: fixable
     "Telegram refused the message (401): Unauthorized"),
    (200, {"ok": False, "error_code": 403, "description": "Forbidden: user is deactivated"}, True,
     "Telegram refused the message (403): Forbidden: user is deactivated"),
])
def test_telegram_chat_errors_are_permanent_and_busy_ones_transient(http_recorder, status, answer, permanent,
                                                                     reason):
    http_recorder.respond(status, answer)

    error = failure(TelegramChannel(telegram_config(http_recorder)), message(to="987"))

    assert error.permanent is permanent
    assert error.reason == reason


def _all_text_of(error: ChannelError) -> str:
    """Everything a log line of this error could show: reason, message and full traceback."""
    return error.reason + str(error) + "".join(traceback.format_exception(error))


def test_telegram_errors_do_not_leak_the_token(http_recorder, silent_port):
    # A proxy echoing the path in a plain-text 404; the raw and the %-encoded token.
    http_recorder.respond(404, text=f"Not Found: /bot{TOKEN}/sendMessage")
    http_recorder.respond(502, text="upstream /bot123456789%3AAAE-secret_token-XYZ/sendMessage failed")
    errors = [failure(TelegramChannel(telegram_config(http_recorder)), message(to="987")) for _ in range(2)]
    # Connection refused, a timeout, and a URL http.client refuses: its error quotes the path.
    down = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": f"http://127.0.0.1:{free_port()}"}
    errors.append(failure(TelegramChannel(down), message(to="987")))
    silent = {**down, "TELEGRAM_API_BASE": f"http://127.0.0.1:{silent_port}", "TELEGRAM_TIMEOUT": 0.3}
    errors.append(failure(TelegramChannel(silent), message(to="987")))
    errors.append(failure(TelegramChannel({**down, "TELEGRAM_API_BASE": "http://127.0.0.1:1/a b"}), message(to="987")))

    assert [error.permanent for error in errors] == [False] * 5
    assert "Not Found: /bot***/sendMessage" in errors[0].reason
    assert "timed out" in errors[3].reason
    for error in errors:
        text = _all_text_of(error)
        assert "secret_token" not in text and "AAE" not in text


# --- configuration --------------------------------------------------------------------------------

def test_unconfigured_channels_say_so():
    channels = channels_from_config({"MAIL_SERVER": "", "SMS_GATEWAY_URL": None})

    assert sorted(channels) == ["email", "sms", "telegram"]
    assert [channel.name for channel in channels.values()] == list(channels)
    for name, key in [("email", "MAIL_SERVER"), ("sms", "SMS_GATEWAY_URL"), ("telegram", "TELEGRAM_BOT_TOKEN")]:
        assert not channels[name].configured
        error = failure(channels[name], message())
        assert not error.permanent  # setting the channel up lets the message go
        assert key in error.reason and "not set up" in error.reason


def test_configured_channels_say_so():
    channels = channels_from_config({"MAIL_SERVER": "mail.example", "SMS_GATEWAY_URL": "https://sms.example/send",
                                     "TELEGRAM_BOT_TOKEN": TOKEN})

    assert all(channel.configured for channel in channels.values())


def test_a_bad_setting_fails_its_channel_only(http_recorder):
    channels = channels_from_config({
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": "abc", "MAIL_SECURITY": "tls",
        "SMS_GATEWAY_URL": "ftp://gateway.example/", "SMS_GATEWAY_BODY": '["not", "an object"]',
        **telegram_config(http_recorder)})

    email_error = failure(channels["email"], message())
    sms_error = failure(channels["sms"], message())
    channels["telegram"].send(message(to="987"))

    assert not email_error.permanent and not sms_error.permanent
    assert "MAIL_PORT" in email_error.reason and "MAIL_SECURITY" in email_error.reason
    assert "SMS_GATEWAY_URL" in sms_error.reason and "SMS_GATEWAY_BODY" in sms_error.reason
    assert len(http_recorder.requests) == 1


def test_a_reason_is_one_short_line():
    error = ChannelError("first line\r\nsecond line " + "x" * 1000, permanent=True)

    assert error.reason.startswith("first line second line xxx")
    assert len(error.reason) <= 300 and "\n" not in error.reason
    assert str(error) == error.reason and error.permanent


# --- Telegram /start and /confirm --------------------------------------------------------------------

def _private(chat_id, text) -> dict:
    return {"message": {"chat": {"id": chat_id, "type": "private"}, "text": text}}


@pytest.mark.parametrize(("update", "expected"), [
    ({"update_id": 1, "message": {"message_id": 5, "chat": {"id": 987, "type": "private"},
                                  "text": "/start Ab_9-x"}}, ("987", "start", "Ab_9-x")),
    (_private(-100123, "/start " + "a" * 64), ("-100123", "start", "a" * 64)),
    (_private("987", "/start code"), ("987", "start", "code")),
    (_private(987, " /confirm K7PQ2M9XDA "), ("987", "confirm", "K7PQ2M9XDA")),
])
def test_command_from_update(update, expected):
    assert command_from_update(update) == expected


@pytest.mark.parametrize("update", [
    None, [], "text", 42, {}, {"message": None}, {"message": []}, {"message": "x"},
    {"message": {"text": "/start abc"}},  # no chat
    {"message": {"text": "/start abc", "chat": None}},
    {"message": {"text": "/start abc", "chat": {"type": "private"}}},
    {"message": {"text": "/start abc", "chat": {"id": 1}}},  # no type: not known to be a private chat
    {"message": {"text": "/start abc", "chat": {"id": -100123, "type": "group"}}},
    {"message": {"text": "/start abc", "chat": {"id": -100123, "type": "supergroup"}}},
    {"message": {"text": "/start abc", "chat": {"id": -100123, "type": "channel"}}},
    _private(True, "/start abc"),
    _private(1.5, "/start abc"),
    _private([1], "/start abc"),
    _private("abc", "/start abc"),
    _private(1, None),
    _private(1, ["/start abc"]),
    {"message": {"chat": {"id": 1, "type": "private"}}},
    _private(1, "/start"),
    _private(1, "/start "),
    _private(1, "/start a b"),
    _private(1, "/start " + "a" * 65),
    _private(1, "/start abc!"),
    _private(1, "/start abc\n/start def"),
    _private(1, "/startabc"),
    _private(1, "/confirm"),
    _private(1, "/stop abc"),
    _private(1, "hello"),
    {"edited_message": {"text": "/start abc", "chat": {"id": 1, "type": "private"}}},
])
def test_command_from_update_ignores_anything_else(update):
    assert command_from_update(update) is None
