"""E-mail over SMTP: plain, STARTTLS or implicit TLS, with optional login."""

import re
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from .channel_base import ChannelError, OutgoingMessage, SendResult, Settings, as_text, describe_error, scrub

# E-mail headers the channel writes itself; a caller's copy would duplicate or contradict them.
RESERVED_HEADERS = {"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
                    "content-type", "content-transfer-encoding"}
_HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")  # RFC 5322 field name: printable ASCII except ":"
_BREAK = re.compile(r"[\r\n]")  # a line break in a header would let its value start new headers


class EmailChannel:
    """E-mail through one SMTP server, plain, STARTTLS or implicit TLS, with optional login."""

    name = "email"

    def __init__(self, config: Mapping[str, Any]):
        settings = Settings(config)
        self.server = settings.text("MAIL_SERVER")
        self.port = settings.number("MAIL_PORT", 25, int, maximum=65535)
        self.security = settings.text("MAIL_SECURITY", "none").lower()
        if self.security not in ("none", "starttls", "ssl"):
            settings.problems.append("MAIL_SECURITY must be none, starttls or ssl")
        self.username = settings.text("MAIL_USERNAME")
        self.password = str(config.get("MAIL_PASSWORD") or "")  # not stripped: spaces may belong to it
        self.sender = settings.text("MAIL_FROM", "shop@localhost")
        self.timeout = settings.number("MAIL_TIMEOUT", 10)
        self.cafile = settings.text("MAIL_SSL_CAFILE") or None
        self.config_error = settings.error

        self._batch_connection: smtplib.SMTP | None = None
        self._in_batch = False

    @property
    def configured(self) -> bool:
        return bool(self.server)

    def __enter__(self) -> "EmailChannel":
        """A batch: the messages sent until __exit__ share one connection (opened at the first send,
        dropped after any error and opened again at the next send)."""
        self._in_batch = True
        return self

    def __exit__(self, *exc_info) -> None:
        self._in_batch = False
        self._drop_connection()

    def _drop_connection(self) -> None:
        if self._batch_connection is not None:
            _close_quietly(self._batch_connection)
            self._batch_connection = None

    def message_id_for(self, message: OutgoingMessage) -> str:
        """Deterministic Message-ID, so a retry that reaches the server twice is seen as one mail."""
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "localhost"
        local = re.sub(r"[^A-Za-z0-9._-]", "-", message.message_id)
        return f"<outbox-{local}@{domain}>"

    def build(self, message: OutgoingMessage) -> EmailMessage:
        """Text part always, HTML as the alternative when there is one, plus the caller's headers.

        A message that cannot be written as an e-mail fails for good: retrying would build it again."""
        if "@" not in parseaddr(message.to)[1] or _BREAK.search(message.to):
            raise ChannelError(f"Not an e-mail address: {message.to}", permanent=True)
        for name, value in message.headers:
            if name.lower() in RESERVED_HEADERS or not _HEADER_NAME.fullmatch(name) or _BREAK.search(value):
                raise ChannelError(f"Header {name} cannot be added to an e-mail", permanent=True)
        email = EmailMessage()
        try:
            email["Subject"] = " ".join(message.subject.split())  # a rendered subject may end in a newline
            email["From"] = self.sender
            email["To"] = message.to
            email["Date"] = formatdate(localtime=True)
            email["Message-ID"] = self.message_id_for(message)
            for name, value in message.headers:
                email[name] = value
            email.set_content(message.text)
            if message.html:
                email.add_alternative(message.html, subtype="html")
        except (ValueError, TypeError) as exc:  # the email package's way to refuse a header or body
            raise ChannelError(f"The e-mail could not be built: {exc}", permanent=True) from None
        return email

    def send(self, message: OutgoingMessage) -> SendResult:
        if not self.configured:
            raise ChannelError("E-mail is not set up (MAIL_SERVER is empty)")
        if self.config_error:
            raise ChannelError(self.config_error)
        email = self.build(message)
        try:
            self._deliver(email, message.to)
        except smtplib.SMTPException as exc:
            raise self._smtp_error(exc) from None
        except OSError as exc:  # refused, unreachable, timed out, TLS failures
            where = f"{self.server}:{self.port}"
            raise self._error(f"Could not reach the mail server {where}: {describe_error(exc)}") from None
        return SendResult(provider_id=email["Message-ID"])

    def _deliver(self, email: EmailMessage, to: str) -> None:
        if not self._in_batch:
            smtp = self._connect()
            try:
                smtp.send_message(email, to_addrs=[to])
            finally:
                _close_quietly(smtp)
            return
        try:
            if self._batch_connection is None:
                self._batch_connection = self._connect()
            self._batch_connection.send_message(email, to_addrs=[to])
        except (smtplib.SMTPException, OSError):
            self._drop_connection()  # a refusal or a broken line: the next message starts afresh
            raise

    def _connect(self) -> smtplib.SMTP:
        """An open, secured and logged-in connection."""
        context = None
        if self.security != "none":
            context = ssl.create_default_context(cafile=self.cafile)
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.server, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.server, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            _close_quietly(smtp)
            raise
        return smtp

    def _smtp_error(self, exc: smtplib.SMTPException) -> ChannelError:
        """Refusals of this recipient, sender or content with a 5xx code are final; the rest
        (4xx, login failures, disconnections) may pass later or once the settings are fixed."""
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            code, text = next(iter(exc.recipients.values()), (0, b""))
            return self._refusal("refused the recipient", code, text)
        for refused, what in _REFUSALS:
            if isinstance(exc, refused):
                return self._refusal(what, exc.smtp_code, exc.smtp_error)
        return self._error(_failure_reason(exc))

    def _refusal(self, what: str, code: int, text: bytes | str) -> ChannelError:
        return self._error(f"Mail server {what}: {code} {as_text(text)}", permanent=code >= 500)

    def _error(self, reason: str, permanent: bool = False) -> ChannelError:
        return ChannelError(scrub(reason, (self.password,)), permanent=permanent)


# The server's refusals of the sender or of the message itself, with the code that says if they are final.
_REFUSALS = ((smtplib.SMTPSenderRefused, "refused the sender"), (smtplib.SMTPDataError, "refused the message"))


def _failure_reason(exc: smtplib.SMTPException) -> str:
    """What went wrong when the server refused nothing about this message (never final on its own)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"Mail server login failed: {exc.smtp_code} {as_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"Mail server does not support this: {exc}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"Mail server error: {exc.smtp_code} {as_text(exc.smtp_error)}"
    return f"Mail server error: {describe_error(exc)}"


def _close_quietly(smtp: smtplib.SMTP) -> None:
    """QUIT politely but never let it turn a delivered message into a failure."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()
