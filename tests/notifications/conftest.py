"""Real servers on loopback for the notification channels: an SMTP server (aiosmtpd) and an HTTP
server that records requests and answers as told. None of them needs the Flask app.

    def test_x(smtp_server):            # plain SMTP on 127.0.0.1
        EmailChannel(smtp_server.config()).send(...)
        smtp_server.messages[0].message()["Subject"]
        smtp_server.refuse_with = "550 5.1.1 no such user"   # later recipients are refused

    def test_y(smtp_server_factory, tls_certificate):   # STARTTLS, implicit TLS, login
        server = smtp_server_factory(starttls=True, users={"shop": "secret"})

    def test_z(http_recorder):
        http_recorder.respond(500, {"error": "busy"})   # the next request gets this, then the default
        ...; http_recorder.requests[0].json
"""

import datetime
import email
import email.policy
import ipaddress
import json
import queue
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (aiosmtpd cannot be given port 0: its start-up check
    would connect to port 0). Also a port where nothing listens, for "server down" tests."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections (the kernel does) but never says a word: for
    timeouts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


# --- TLS certificate ------------------------------------------------------------------------------

@dataclass(frozen=True)
class TlsCertificate:
    certfile: Path  # self-signed, so it is its own CA file (MAIL_SSL_CAFILE)
    keyfile: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certfile, self.keyfile)
        return context


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory) -> TlsCertificate:
    """A self-signed certificate for localhost and 127.0.0.1, made once per run."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return TlsCertificate(certfile, keyfile)


# --- SMTP -----------------------------------------------------------------------------------------

@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes  # the message as it arrived
    tls: bool  # the connection was encrypted (STARTTLS or implicit TLS)
    login: str | None  # the user name it logged in with, if it did
    peer: tuple = ()  # the client's address and port: one per connection

    def message(self) -> EmailMessage:
        """The message parsed, with the wire's CRLF line ends turned into Python's "\\n"."""
        return email.message_from_bytes(self.content.replace(b"\r\n", b"\n"), policy=email.policy.default)


class _RecordingHandler:
    """aiosmtpd handler: refuses recipients while `box.refuse_with` is set, records each message."""

    def __init__(self, box: "SmtpServer"):
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.box.refuse_with:
            return self.box.refuse_with
        if address in self.box.refuse_addresses:
            return self.box.refuse_addresses[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        tls = server.transport.get_extra_info("ssl_object") is not None
        login = session.auth_data if session.authenticated else None
        self.box.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content,
                                              tls, login, tuple(session.peer or ())))
        return "250 Message accepted for delivery"


def _authenticator(users: dict[str, str]) -> Callable:
    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if users.get(login) == password:
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)
    return authenticate


@dataclass
class SmtpServer:
    host: str
    port: int
    security: str = "none"  # what the channel must use: "none", "starttls" or "ssl"
    cafile: str | None = None
    messages: list[ReceivedMail] = field(default_factory=list)
    refuse_with: str | None = None  # e.g. "451 4.3.0 try later" or "550 5.1.1 no such user"
    refuse_addresses: dict[str, str] = field(default_factory=dict)  # address -> reply, for that one only

    def config(self, **overrides: Any) -> dict[str, Any]:
        """MAIL_* settings that reach this server; keyword arguments add or replace keys."""
        config = {"MAIL_SERVER": self.host, "MAIL_PORT": self.port, "MAIL_SECURITY": self.security,
                  "MAIL_FROM": "Repair shop <shop@repair.example>", "MAIL_TIMEOUT": 5}
        if self.cafile:
            config["MAIL_SSL_CAFILE"] = self.cafile
        return {**config, **overrides}


@pytest.fixture
def smtp_server_factory(request) -> Iterator[Callable[..., SmtpServer]]:
    """Starts SMTP servers on 127.0.0.1, all stopped after the test.

    starttls=True offers STARTTLS, implicit_tls=True speaks TLS from the first byte (both need the
    tls_certificate fixture); users={"name": "password"} requires a login, which aiosmtpd offers
    only after STARTTLS, so it goes with starttls=True."""
    controllers: list[Controller] = []

    def start(*, starttls: bool = False, implicit_tls: bool = False, users: dict[str, str] | None = None):
        if implicit_tls and users:
            # aiosmtpd offers AUTH only after STARTTLS: it does not count TLS from the first byte.
            raise ValueError("aiosmtpd cannot require a login on an implicit TLS server; use starttls=True")
        server = SmtpServer(host="127.0.0.1", port=free_port())
        options: dict[str, Any] = {}
        if starttls or implicit_tls:
            certificate = request.getfixturevalue("tls_certificate")
            server.cafile = str(certificate.certfile)
            server.security = "starttls" if starttls else "ssl"
            options["tls_context" if starttls else "ssl_context"] = certificate.server_context()
        if users:
            options.update(authenticator=_authenticator(users), auth_required=True)
        # server_hostname: without it aiosmtpd looks up this machine's FQDN, a DNS query per server.
        controller = Controller(_RecordingHandler(server), hostname=server.host, port=server.port,
                                server_hostname="localhost", **options)
        controller.start()
        controllers.append(controller)
        return server

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_server(smtp_server_factory) -> SmtpServer:
    """A plain SMTP server on 127.0.0.1 that accepts everything (until told `.refuse_with`)."""
    return smtp_server_factory()


# --- HTTP -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any  # the body parsed as JSON, None when it is not JSON


@dataclass(frozen=True)
class CannedResponse:
    status: int
    body: bytes
    content_type: str


DEFAULT_RESPONSE = CannedResponse(200, json.dumps({"ok": True, "result": {"message_id": 1}}).encode(),
                                  "application/json")


class HttpRecorder:
    def __init__(self, server: ThreadingHTTPServer):
        self.server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.requests: list[RecordedRequest] = []
        self.responses: queue.Queue[CannedResponse] = queue.Queue()

    def respond(self, status: int, json_body: Any = None, *, text: str | None = None) -> None:
        """Queue the answer to the next request (answers queue up in order; when none is left,
        requests get 200 {"ok": true, "result": {"message_id": 1}}). text= answers with plain text."""
        if text is not None:
            self.responses.put(CannedResponse(status, text.encode(), "text/plain; charset=utf-8"))
        else:
            self.responses.put(CannedResponse(status, json.dumps(json_body).encode(), "application/json"))

    def next_response(self) -> CannedResponse:
        try:
            return self.responses.get_nowait()
        except queue.Empty:
            return DEFAULT_RESPONSE


def _recording_handler(recorder_ref: list[HttpRecorder]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _record_and_answer(self) -> None:
            recorder = recorder_ref[0]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            recorder.requests.append(RecordedRequest(self.command, self.path, dict(self.headers.items()),
                                                     body, parsed))
            answer = recorder.next_response()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = _record_and_answer

        def log_message(self, format, *args):  # keep the test output clean
            pass

    return Handler


@pytest.fixture
def http_recorder() -> Iterator[HttpRecorder]:
    """An HTTP server on 127.0.0.1 that records every request and answers from `.respond()`."""
    recorder_ref: list[HttpRecorder] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _recording_handler(recorder_ref))
    server.daemon_threads = True
    recorder_ref.append(HttpRecorder(server))
    # A short poll interval: shutdown() waits for the loop to notice, 0.5 s per test by default.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="http-recorder",
                              daemon=True)
    thread.start()
    yield recorder_ref[0]
    server.shutdown()
    server.server_close()
    thread.join()
