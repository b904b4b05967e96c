"""The quote over HTTP: the customer's Approve / Decline on the tracking page (forged tokens, stale pages,
garbage, replays, two tabs at once) and the desk's phone decision (roles, a note, kept input)."""

import re
import threading

import pytest
from sqlalchemy import func, select

from crm.auth.models import Role
from crm.extensions import db
from crm.orders import quotes, service
from crm.orders.models import QuoteDecision, RepairOrder
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import app_session

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def _awaiting(app, *, estimate=120000):
    with app_session(app) as session:
        technician = factories.staff(role=Role.TECHNICIAN)
        order = factories.order(estimate_minor=estimate)
        service.add_line(session, order, kind="labour", description="Screen replacement", quantity=1,
                         unit_price_minor=150000, actor=technician)
        service.change_status(session, order, "diagnosing", actor=technician)
        service.change_status(session, order, "awaiting_approval", actor=technician)
        return order.id, order.tracking_token


def _form(client, token):
    html = client.get(f"/t/{token}").get_data(as_text=True)
    return {"token": re.search(r'name="token" value="([^"]+)"', html).group(1),
            "version": re.search(r'name="version" value="([^"]+)"', html).group(1)}


def _decisions(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(QuoteDecision))


def _status(app, order_id):
    with app.app_context():
        return db.session.get(RepairOrder, order_id).status


def test_the_waiting_quote_shows_lines_total_estimate_and_difference(app, client):
    _, token = _awaiting(app)
    response = client.get(f"/t/{token}")
    html = response.get_data(as_text=True)
    assert "Your quote" in html and "Screen replacement" in html
    assert re.search(r'id="quote-total">UAH1,500.00<', html)
    assert "UAH1,200.00" in html and re.search(r'id="quote-difference">\+UAH300.00<', html)
    assert 'value="approve"' in html and 'value="decline"' in html
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get_cookie("session") is None  # the customer's page sets no cookie


def test_approving_through_the_link_moves_the_order_and_the_page_shows_the_decision(app, client):
    order_id, token = _awaiting(app)
    response = client.post(f"/t/{token}/quote", data={**_form(client, token), "decision": "approve"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/t/{token}#quote")
    assert _status(app, order_id) == "in_repair"
    html = client.get(f"/t/{token}").get_data(as_text=True)
    assert "You approved the quote of" in html and 'value="approve"' not in html


def test_a_replayed_post_decides_once(app, client):
    order_id, token = _awaiting(app)
    form = {**_form(client, token), "decision": "decline"}
    assert client.post(f"/t/{token}/quote", data=form).status_code == 303
    again = client.post(f"/t/{token}/quote", data={**form, "decision": "approve"})
    assert again.status_code == 303
    assert _decisions(app) == 1 and _status(app, order_id) == "ready"


def test_two_tabs_posting_at_once_decide_once(app):
    order_id, token = _awaiting(app)
    form = _form(app.test_client(), token)
    start = threading.Barrier(2, timeout=10)
    codes = []

    def post(choice):
        client = app.test_client()
        start.wait()
        codes.append(client.post(f"/t/{token}/quote", data={**form, "decision": choice}).status_code)

    threads = [threading.Thread(target=post, args=(choice,)) for choice in ("approve", "decline")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert codes == [303, 303]
    assert _decisions(app) == 1 and _status(app, order_id) in ("in_repair", "ready")


def test_a_stale_page_is_refused_and_shows_the_new_quote(app, client):
    order_id, token = _awaiting(app)
    form = _form(client, token)
    with app_session(app) as session:
        order = session.get(RepairOrder, order_id)
        service.add_line(session, order, kind="labour", description="Battery", quantity=1, unit_price_minor=50000,
                         actor=None)
    response = client.post(f"/t/{token}/quote", data={**form, "decision": "approve"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "The quote changed since this page was opened" in html and "Battery" in html
    assert re.search(r'id="quote-total">UAH2,000.00<', html)
    assert response.headers["Cache-Control"] == "no-store"
    assert _decisions(app) == 0 and _status(app, order_id) == "awaiting_approval"


@pytest.mark.parametrize("change", [
    {"token": "0" * 64}, {"token": ""}, {"version": "7"}, {"version": "x"}, {"version": "\x00"},
    {"decision": "maybe"}, {"decision": ""}, {"token": "a" * 5000}])
def test_a_forged_or_damaged_form_gets_a_clear_400(app, client, change):
    order_id, token = _awaiting(app)
    response = client.post(f"/t/{token}/quote", data={**_form(client, token), "decision": "approve", **change})
    assert response.status_code == 400
    assert "This form is no longer valid" in response.get_data(as_text=True)
    assert _decisions(app) == 0 and _status(app, order_id) == "awaiting_approval"


def test_a_token_of_another_order_does_not_decide_this_one(app, client):
    _, token = _awaiting(app)
    _, other = _awaiting(app)
    response = client.post(f"/t/{token}/quote", data={**_form(client, other), "decision": "approve"})
    assert response.status_code == 400 and _decisions(app) == 0


def test_an_unknown_link_gets_not_found(app, client):
    assert client.post("/t/not-a-token/quote", data={"decision": "approve"}).status_code == 404


def test_the_desk_records_a_phone_decision_with_a_note(app, client, auth):
    order_id, _ = _awaiting(app)
    user_id = auth.login(Role.FRONT_DESK)
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    version = re.search(r'id="quote_version" name="quote_version" type="hidden" value="(\d+)"', page).group(1)
    response = client.post(f"/orders/{order_id}/quote-decision", data={
        "csrf_token": csrf_token(client, f"/orders/{order_id}"), "decision": "approved",
        "note": "Called at 14:00, go ahead", "quote_version": version})
    assert response.status_code == 302
    assert _status(app, order_id) == "in_repair"
    with app.app_context():
        decision = db.session.scalar(select(QuoteDecision))
        assert (decision.via, decision.decided_by_id, decision.note) == ("phone", user_id, "Called at 14:00, go ahead")
    html = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "by phone, recorded by" in html and "Called at 14:00, go ahead" in html


def test_a_phone_decision_without_a_note_is_refused_and_keeps_the_choice(app, client, auth):
    order_id, _ = _awaiting(app)
    auth.login(Role.FRONT_DESK)
    response = client.post(f"/orders/{order_id}/quote-decision", data={
        "csrf_token": csrf_token(client, f"/orders/{order_id}"), "decision": "declined", "note": "",
        "quote_version": "1"})
    assert response.status_code == 422
    assert "Write down what the customer said." in response.get_data(as_text=True)
    assert _decisions(app) == 0


def test_a_technician_cannot_record_a_phone_decision(app, client, auth):
    order_id, _ = _awaiting(app)
    auth.login(Role.TECHNICIAN)
    response = client.post(f"/orders/{order_id}/quote-decision", data={
        "csrf_token": csrf_token(client, f"/orders/{order_id}"), "decision": "approved", "note": "ok",
        "quote_version": "1"})
    assert response.status_code == 403 and _decisions(app) == 0


def test_the_technician_chooses_where_an_approval_takes_the_order(app, client, auth):
    with app_session(app) as session:
        order = factories.order()
        service.add_line(session, order, kind="labour", description="Work", quantity=1, unit_price_minor=100,
                         actor=None)
        order_id = order.id
    auth.login(Role.TECHNICIAN)
    token = csrf_token(client, f"/orders/{order_id}")
    client.post(f"/orders/{order_id}/status", data={"csrf_token": token, "status": "diagnosing",
                                                    "expected_from": "received"})
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "When the customer approves" in page
    client.post(f"/orders/{order_id}/status", data={"csrf_token": token, "status": "awaiting_approval",
                                                    "expected_from": "diagnosing", "on_approval": "awaiting_parts"})
    with app.app_context():
        order = db.session.get(RepairOrder, order_id)
        assert (order.status, order.approval_target) == ("awaiting_approval", "awaiting_parts")
        quotes.decide(db.session, order_id, order.quote_version, "approved", via="link")
        db.session.commit()
        assert db.session.get(RepairOrder, order_id).status == "awaiting_parts"


def test_the_queue_marks_decided_orders_in_the_same_number_of_queries(app, client, auth, count_queries):
    auth.login(Role.TECHNICIAN)
    order_id, _ = _awaiting(app)
    client.get("/orders/queue")
    with count_queries() as before:
        client.get("/orders/queue")
    more = [_awaiting(app)[0] for _ in range(3)]
    with app_session(app) as session:
        for decided in (order_id, *more):
            quotes.decide(session, decided, session.get(RepairOrder, decided).quote_version, "approved", via="link")
    with count_queries() as after:
        html = client.get("/orders/queue").get_data(as_text=True)
    assert html.count("Quote approved") == 4
    assert after.count == before.count
