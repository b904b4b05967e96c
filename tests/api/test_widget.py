"""The repair-status widget's endpoint: the status and link for the right number and digits, one answer for an
unknown number and for wrong digits, a limit per address, answers readable only on the listed websites, and the
manager's list of websites."""

import pytest

from crm.api import widget
from crm.extensions import db
from tests import factories
from tests.conftest import csrf_token

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
SITE = "https://my-shop.example"


@pytest.fixture
def order(app):
    with app.app_context():
        customer = factories.customer(phone="+380671161234")
        row = factories.order(customer)
        widget.save_origins(db.session, SITE)
        db.session.commit()
        values = {"number": row.number, "token": row.tracking_token}
        db.session.remove()
    return values


def test_the_right_number_and_digits_give_the_status_and_the_link(client, order):
    body = client.post("/api/widget/status", data={"number": order["number"].lower(), "last4": "1234"}).get_json()
    assert body["found"] is True and body["status"] == "received"
    assert body["tracking_url"].endswith(f"/t/{order['token']}")
    assert body["status_label"] and body["message"]


def test_an_unknown_number_and_wrong_digits_get_the_same_answer(client, order):
    answers = [client.post("/api/widget/status", data=data) for data in (
        {"number": order["number"], "last4": "9999"}, {"number": "R-99999", "last4": "1234"},
        {"number": order["number"], "last4": "12a4"}, {"number": "", "last4": ""}, {})]
    assert {a.status_code for a in answers} == {200}
    assert len({a.get_data() for a in answers}) == 1
    assert answers[0].get_json()["found"] is False and answers[0].get_json()["tracking_url"] is None


def test_the_answer_speaks_the_asked_language(client, order):
    body = client.post("/api/widget/status", data={"number": order["number"], "last4": "1234", "lang": "uk"})
    assert "ремонт" in body.get_json()["message"].lower()
    assert client.get("/api/widget/labels?lang=ro").get_json()["submit"] != "Check"


def test_json_bodies_work_too(client, order):
    assert client.post("/api/widget/status", json={"number": order["number"], "last4": "1234"}).get_json()["found"]
    assert client.post("/api/widget/status", json=["garbage"]).get_json()["found"] is False


def test_look_ups_are_limited_per_address(app, client, order, monkeypatch):
    monkeypatch.setitem(app.config, "WIDGET_RATE_LIMIT", "3 per minute")
    codes = [client.post("/api/widget/status", data={"number": "R-1", "last4": "0000"}).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    other = client.post("/api/widget/status", data={"number": "R-1", "last4": "0000"},
                        environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert other.status_code == 200


def test_only_listed_websites_may_read_the_answers(client, order):
    listed = client.post("/api/widget/status", data={"number": "R-1", "last4": "0000"}, headers={"Origin": SITE})
    assert listed.headers["Access-Control-Allow-Origin"] == SITE
    other = client.post("/api/widget/status", data={"number": "R-1", "last4": "0000"},
                        headers={"Origin": "https://evil.example"})
    assert other.status_code == 403 and "Access-Control-Allow-Origin" not in other.headers
    preflight = client.options("/api/widget/status", headers={"Origin": SITE,
                                                              "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == SITE


@pytest.mark.parametrize(("text", "saved"), [
    ("https://my-shop.example/\nhttp://localhost:8080\n\n", "http://localhost:8080\nhttps://my-shop.example"),
    ("HTTPS://Shop.Example", "https://shop.example")])
def test_the_manager_lists_the_websites(app, client, auth, text, saved):
    auth.login("manager")
    token = csrf_token(client, "/api-tokens")
    assert client.post("/api-tokens/widget", data={"csrf_token": token, "widget_origins": text}).status_code == 302
    with app.app_context():
        assert widget.settings(db.session).widget_origins == saved
        db.session.remove()


@pytest.mark.parametrize("text", ["my-shop.example", "https://shop.example/page", "ftp://shop.example",
                                  "https://user:pw@shop.example", "javascript:alert(1)"])
def test_an_address_that_is_not_a_website_is_refused_and_kept(client, auth, text):
    auth.login("manager")
    token = csrf_token(client, "/api-tokens")
    page = client.post("/api-tokens/widget", data={"csrf_token": token, "widget_origins": text})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "is not a website address" in html
