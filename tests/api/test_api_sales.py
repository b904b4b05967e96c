"""Sales and refunds for accounting, and the ETags of single resources: a sale with its lines, payments, points and
refunds; refunds by time; If-None-Match answered with 304 while nothing changed, 200 with a new ETag after."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from crm.database import utcnow
from crm.sales.checkout import open_sale
from crm.sales.models import SaleLine
from crm.sales.refunds import RefundRequest
from tests import factories
from tests.factories import sales as sale_factories


@pytest.fixture
def sale(committed):
    """A paid sale of 2 cases and a charger; one case refunded. (sale id, its line ids, the refund's id)"""
    def build(session):
        desk = sale_factories.staff_member(session)
        case = sale_factories.new_item(session, price_minor=30000, on_hand=5)
        charger = sale_factories.new_item(session, price_minor=45000, on_hand=5)
        paid = sale_factories.paid_sale(session, desk, [(case, 2), (charger, 1)])
        line_ids = list(session.scalars(select(SaleLine.id).where(SaleLine.sale_id == paid.id).order_by(SaleLine.id)))
        refund = sale_factories.give_back(session, paid.id, [RefundRequest(line_ids[0], 1)], actor=desk)
        return paid.id, line_ids, refund.id

    return committed(build)


def test_a_sale_with_its_lines_payments_and_refunds(client, api_token, sale):
    sale_id, line_ids, refund_id = sale
    body = client.get(f"/api/v1/sales/{sale_id}", headers=api_token("read_only")).get_json()
    assert (body["status"], body["subtotal_minor"], body["total_minor"], body["paid_minor"]) == (
        "paid", 105000, 105000, 105000)
    assert [(line["id"], line["quantity"], line["total_minor"], line["refunded_quantity"]) for line in body["lines"]] \
        == [(line_ids[0], 2, 60000, 1), (line_ids[1], 1, 45000, 0)]
    assert [(p["method"], p["amount_minor"]) for p in body["payments"]] == [("cash", 105000)]
    assert [(r["id"], r["amount_minor"], [line["sale_line_id"] for line in r["lines"]]) for r in body["refunds"]] \
        == [(refund_id, 30000, [line_ids[0]])]


def test_a_cart_not_yet_paid_and_unknown_ids_are_404(client, api_token, committed):
    cart = committed(lambda session: open_sale(session, actor=sale_factories.staff_member(session)).id)
    headers = api_token("read_only")
    for path in (f"/api/v1/sales/{cart}", "/api/v1/sales/999999", "/api/v1/refunds/999999"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_refunds_by_time_with_since(client, api_token, committed, sale):
    sale_id, line_ids, refund_id = sale
    headers = api_token("read_only")
    listed = client.get("/api/v1/refunds", headers=headers).get_json()
    assert [r["id"] for r in listed["items"]] == [refund_id] and listed["next_cursor"] is None
    refund = listed["items"][0]
    assert (refund["sale_id"], refund["method"], refund["reason"], refund["lines"][0]["quantity"]) == (
        sale_id, "cash", "Customer changed their mind", 1)
    assert client.get(f"/api/v1/refunds/{refund_id}", headers=headers).get_json() == refund
    later = quote((utcnow() + timedelta(seconds=1)).isoformat())
    assert client.get(f"/api/v1/refunds?since={later}", headers=headers).get_json()["items"] == []
    second = committed(lambda session: sale_factories.give_back(
        session, sale_id, [RefundRequest(line_ids[1], 1)], actor=sale_factories.staff_member(session)).id)
    page = client.get("/api/v1/refunds?limit=1", headers=headers).get_json()
    rest = client.get(f"/api/v1/refunds?limit=1&cursor={page['next_cursor']}", headers=headers).get_json()
    assert [r["id"] for r in page["items"] + rest["items"]] == [refund_id, second]


def _etag_round_trip(client, headers, path):
    first = client.get(path, headers=headers)
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get(path, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == first.headers["ETag"]
    weak = client.get(path, headers={**headers, "If-None-Match": "W/" + first.headers["ETag"]})
    assert weak.status_code == 304
    other = client.get(path, headers={**headers, "If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.get_json() == first.get_json()
    return first.headers["ETag"]


def test_single_resources_answer_304_while_unchanged_and_a_new_etag_after_a_change(client, api_token, committed,
                                                                                 sale):
    headers = api_token("front_desk")
    customer_id = committed(lambda session: factories.customer(name="ETag Person").id)
    order_id = committed(lambda session: factories.order().id)
    sale_id, line_ids, refund_id = sale
    tags = {path: _etag_round_trip(client, headers, path) for path in (
        f"/api/v1/customers/{customer_id}", f"/api/v1/orders/{order_id}", f"/api/v1/sales/{sale_id}",
        f"/api/v1/refunds/{refund_id}")}
    assert client.patch(f"/api/v1/customers/{customer_id}", json={"name": "ETag Renamed"},
                        headers=headers).status_code == 200
    assert client.post(f"/api/v1/orders/{order_id}/lines", json={"kind": "labour", "description": "Diagnose",
                                                                  "unit_price_minor": 100},
                       headers=headers).status_code == 201
    committed(lambda session: sale_factories.give_back(session, sale_id, [RefundRequest(line_ids[1], 1)],
                                                       actor=sale_factories.staff_member(session)))
    for path in list(tags)[:3]:
        response = client.get(path, headers={**headers, "If-None-Match": tags[path]})
        assert response.status_code == 200 and response.headers["ETag"] != tags[path], path
