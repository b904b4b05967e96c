"""The README's receiver example, run as written against real deliveries on loopback: what the README tells a
shop's developer to do accepts the CRM's deliveries and refuses one signed with another secret."""

import re
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from crm.webhooks import events
from crm.webhooks.delivery import deliver
from tests.webhooks.conftest import add_endpoint, deliveries

README = Path(__file__).resolve().parents[2] / "README.md"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def readme_receiver(secret: str) -> dict:
    """The README's Python block that starts with "# webhook receiver", executed with this secret."""
    code = re.search(r"```python\n(# webhook receiver\n.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    namespace: dict = {"__name__": "__main__"}  # as when the receiver runs as a script
    exec(compile(code.replace('"whsec_..."', repr(secret)), "README.md", "exec"), namespace)  # noqa: S102
    return namespace


@pytest.fixture
def serve():
    servers = []

    def start(flask_app) -> str:
        server = make_server("127.0.0.1", 0, flask_app, threaded=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_readme_receiver_accepts_a_delivery_and_refuses_a_wrong_signature(session, serve):
    right, secret = add_endpoint(session, url="http://127.0.0.1:1/placeholder", events=["sale.paid"])
    right.url = serve(readme_receiver(secret)["app"]) + "/crm-events"
    wrong, _ = add_endpoint(session, url="http://127.0.0.1:1/placeholder", events=["sale.paid"])
    wrong.url = serve(readme_receiver("whsec_not-the-endpoints-secret")["app"]) + "/crm-events"
    events.emit(session, "sale.paid", {"sale": {"id": 1, "total_minor": 12_500}}, now=NOW)
    session.commit()
    result = deliver(session, now=NOW)
    assert (result.sent, result.retrying) == (1, 1)
    accepted, refused = deliveries(session)
    assert (accepted.endpoint_id, accepted.status, accepted.response_status) == (right.id, "sent", 204)
    assert (refused.endpoint_id, refused.status, refused.response_status) == (wrong.id, "pending", 401)


def test_the_readme_check_refuses_an_old_timestamp():
    check = readme_receiver("whsec_x")["signature_is_valid"]
    import hashlib
    import hmac

    old = "1000000000"
    signed = "sha256=" + hmac.new(b"whsec_x", old.encode() + b".{}", hashlib.sha256).hexdigest()
    assert not check("whsec_x", old, b"{}", signed)
    assert not check("whsec_x", "not-a-number", b"{}", signed)
