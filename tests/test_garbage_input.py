"""Garbage posted into every form: a clear answer (re-rendered form, 4xx), never a 500, on both databases."""

import itertools
import re
from urllib.parse import quote

import pytest
from sqlalchemy import select

from crm.catalogue.models import CatalogueItem
from crm.extensions import db
from crm.loyalty.models import CouponTemplate
from tests import factories
from tests.conftest import csrf_token

# argon2id at its real cost is checked in tests/auth/test_auth_service.py; here it would only be slow.
pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

GARBAGE = [
    "\x00",
    "a\x00b",
    "x" * 5000,
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "-1",
    "99999999999999999999",
    "1e309",
    "NaN",
    "１２３",
    "²",  # str.isdigit() says yes, int() says no
    "٣",  # an Arabic-Indic three: int() reads it, a shop's form should not
    "①",
    "0001-01-01",  # dates at the ends of what Python can hold: one day either way overflows
    "9999-12-31",
    "\ud7ff\u202e\ufeff",
    "",
]

# Each form with data it accepts, so that garbage in one field reaches as deep as it can get.
ORDER = {"device_type": "phone", "brand": "Apple", "model": "iPhone 12", "serial_number": "SN1",
         "imei": "490154203237518", "condition": "ok", "accessories": "case", "problem": "Broken",
         "estimate": "100", "due_date": "2030-01-01", "priority": "0", "technician_id": "", "warranty_days": "90",
         "repair_kind": "battery"}
FORMS = [
    ("/customers/new", {"phone": "+38067333{n}", "name": "N", "email": "a@b.example", "birthday": "1990-01-01",
                        "service_consent": "y", "marketing_consent": "y", "notes": "n"}),
    ("/customers/{customer}/edit", {"phone": "+380671110001", "name": "N", "email": "", "birthday": "",
                                    "notes": ""}),
    ("/orders/new?customer_id={customer}", ORDER),
    ("/orders/{order}/edit", ORDER),
    ("/orders/{order}/lines", {"kind": "labour", "description": "Work", "quantity": "1", "price": "10"}),
    ("/orders/{order}/lines", {"kind": "part", "sku": "GARBAGE-CASE", "description": "", "quantity": "1",
                               "price": ""}),
    ("/orders/{order}/status", {"status": "diagnosing", "note": "n", "expected_from": "received"}),
    ("/orders/{order}/status", {"status": "awaiting_approval", "note": "n", "expected_from": "diagnosing",
                                "on_approval": "awaiting_parts"}),
    ("/orders/{order}/quote-decision", {"decision": "approved", "note": "n", "quote_version": "1"}),
    ("/t/{tracking}/quote", {"decision": "approve", "version": "1", "token": "x"}),
    ("/staff/new", {"username": "new-user-{n}", "full_name": "N", "role": "technician", "password": "long-enough-1"}),
    ("/staff/{staff}/edit", {"full_name": "N", "role": "technician", "active": "y"}),
    ("/staff/{staff}/password", {"password": "long-enough-1", "confirm": "long-enough-1"}),
    ("/account/password", {"current_password": "correct-horse-42", "password": "long-enough-1",
                           "confirm": "long-enough-1"}),
    ("/catalogue/new", {"sku": "GARBAGE-NEW-{n}", "name": "N", "category_id": "{category}", "price": "10", "cost": "5",
                        "stock_tracked": "y", "reorder_level": "2", "active": "y"}),
    ("/catalogue/{item}/edit", {"sku": "GARBAGE-CASE", "name": "Case", "category_id": "{category}", "price": "100",
                                "cost": "", "stock_tracked": "y", "reorder_level": "0", "active": "y"}),
    ("/catalogue/{item}/receive", {"quantity": "1", "note": "n"}),
    ("/catalogue/{item}/adjust", {"quantity": "-1", "reason": "r"}),
    ("/catalogue/categories", {"name": "Cables {n}"}),
    ("/catalogue/categories/{category}/edit", {"name": "Accessories"}),
    ("/sales/{sale}/items", {"sku": "GARBAGE-CASE", "quantity": "1", "discount": "10%"}),
    ("/sales/new", {"customer_id": "{customer}"}),
    ("/sales/{sale}/customer", {"phone": "+380671110000"}),
    ("/sales/{sale}/pay", {"key": "garbage-key", "expected_total": "10000", "pay_0": "50", "pay_1": "50",
                           "pay_2": "", "loyalty_points": "0", "loyalty_coupon": ""}),
    ("/loyalty/settings", {"enabled": "y", "enrolment": "automatic", "point_value": "1", "redeem_cap": "30",
                           "min_balance_to_redeem": "0", "redeem_categories": "accessory", "expiry_months": "12",
                           "expiry_warning_days": "14", "welcome_bonus": "50", "birthday_bonus": "100",
                           "anniversary_bonus": "100", "referral_bonus": "100", "referee_bonus": "50",
                           "tier_window_months": "12", "repair_coupon_template_id": ""}),
    ("/loyalty/settings/rates", {"rate_repair_labour": "5", "rate_accessory": "2.5"}),
    ("/loyalty/tiers/new", {"name": "Garbage tier", "rank": "7", "min_spend": "100", "min_repairs": "2",
                            "earn_multiplier": "120", "accessory_discount": "5", "free_diagnostics": "y"}),
    ("/loyalty/coupons/templates/new", {"name": "Garbage coupon {n}", "kind": "percent", "percent": "10", "amount": "",
                                        "categories": "accessory", "min_bill": "10", "validity_days": "30"}),
    ("/loyalty/coupons/promo/new", {"template_id": "{template}", "code": "GARBAGE-{n}", "usage_limit": "5",
                                    "valid_from": "2026-01-01", "valid_until": "2026-02-01"}),
    ("/loyalty/customers/{customer}/adjust", {"key": "garbage-adjust", "points": "5", "reason": "r"}),
    ("/loyalty/customers/{customer}/referrer", {"referred_by": "+380671110000"}),
    ("/notifications/settings", {"notify_statuses": "awaiting_parts", "quiet_start": "21:00", "quiet_end": "09:00",
                                 "max_attempts": "6", "catch_up_days": "7"}),
    ("/orders/reminder-settings", {"warranty_enabled": "y", "warranty_days_before": "14", "battery_enabled": "y",
                                   "battery_months": "12", "battery_coupon": "{template}", "screen_months": "",
                                   "screen_coupon": ""}),
    ("/notifications/templates/welcome/email/en", {"subject": "Hi {{ customer_name }}", "body": "Hello",
                                                   "submit": "Save"}),
    ("/notifications/templates/birthday/sms/en", {"subject": "", "body": "Hi", "preview": "Preview"}),
    ("/sales/{paid}/refund", {"key": "garbage-refund", "method": "cash", "reason": "r", "qty_{paid_line}": "1",
                              "restock_{paid_line}": "y"}),
    ("/feedback/{feedback}/follow-up", {"f{feedback}-status": "done", "f{feedback}-note": "n"}),
    ("/t/{picked_up_token}/feedback", {"form_token": "{form_token}", "rating": "5", "comment": "c"}),
    ("/webhooks", {"url": "https://hooks.example.test/{n}", "description": "d", "events": "order.ready",
                   "active": "y"}),
    ("/webhooks/{webhook}", {"url": "https://hooks.example.test/in", "description": "d", "events": "sale.paid",
                             "active": "y"}),
]
QUERIES = ["/customers?q={v}", "/customers?q={v}&partial=1", "/orders?q={v}", "/orders?status={v}",
           "/orders?technician={v}", "/orders?from={v}&to={v}", "/orders?page={v}", "/orders/new?customer_id={v}",
           "/customers/new?phone={v}", "/orders/{order}/receipt?size={v}", "/sales?q={v}", "/sales?page={v}",
           "/sales/{paid}/receipt?size={v}", "/sales/end-of-day?day={v}", "/catalogue?q={v}",
           "/catalogue?q={v}&partial=1", "/catalogue?page={v}", "/catalogue/{item}?page={v}",
           "/catalogue/low-stock?page={v}", "/sales/{sale}?points={v}", "/sales/{sale}?coupon={v}",
           "/sales/{sale}?use_max={v}&points=1", "/loyalty/audit?page={v}", "/notifications/?show={v}",
           "/notifications/?page={v}", "/u/{v}", "/t/{v}", "/t/{v}/quote", "/orders/reminder-settings?{v}",
           "/feedback?rating={v}", "/feedback?technician={v}", "/feedback?from={v}&to={v}",
           "/feedback?page={v}&follow_up={v}",
           "/reports/loyalty?period={v}", "/reports/loyalty?period=custom&start={v}&end={v}",
           "/reports/loyalty?period=custom&start=2026-13-45&end=2026-01-01",
           "/reports/loyalty?period=custom&start=2026-05-01&end=2026-04-01",
           "/reports/loyalty?period=custom&start=1926-01-01&end=2026-01-01",
           "/reports/loyalty?format=csv&table={v}",
           "/reports/staff?period={v}", "/reports/staff?period=custom&start={v}&end={v}",
           "/reports/staff?period=custom&start=1926-01-01&end=2026-01-01", "/reports/staff?format=csv&table={v}",
           "/reports/my-results?period=custom&start={v}&end={v}", "/reports/my-results?format={v}&table={v}",
           "/reports?period={v}", "/reports?period=custom&start={v}&end={v}", "/reports?start={v}",
           "/reports?period=custom&start=2026-13-45&end=2026-01-01",
           "/reports?period=custom&start=2026-05-01&end=2026-04-01",
           "/reports?period=custom&start=1926-01-01&end=2026-01-01", "/reports?format=csv&table={v}",
           "/reports?format={v}&table=headline",
           "/audit?actor={v}", "/audit?area={v}", "/audit?from={v}&to={v}", "/audit?page={v}",
           "/audit?format=csv&actor={v}&area={v}&from={v}&to={v}", "/audit?from=2026-05-01&to=2026-04-01",
           "/webhooks?{v}", "/webhooks/{webhook}?{v}"]
# Every list with a pager (see test_every_paginated_list_is_walked), with query-string names that url_for keeps
# for itself: a pager link built from url_for(endpoint, **request.args) broke on them.
PAGINATED = {"customers.index": "/customers", "orders.index": "/orders", "orders.queue": "/orders/queue",
             "sales.index": "/sales", "loyalty.audit": "/loyalty/audit", "notifications.outbox": "/notifications/",
             "catalogue.index": "/catalogue", "catalogue.low_stock": "/catalogue/low-stock",
             "feedback.index": "/feedback", "audit.audit_log": "/audit"}
URL_FOR_NAMES = ["endpoint", "values", "_method", "_external", "_scheme", "_anchor"]


@pytest.fixture
def ids(app):
    with app.app_context():
        customer = factories.customer()
        factories.customer(name="Referrer", phone="+380671110000")  # the referrer and the cart's customer below
        order = factories.order(customer)
        staff = factories.staff(role="technician")
        sale_id, paid_id, paid_line = _sales()
        item = db.session.scalar(select(CatalogueItem).where(CatalogueItem.sku == "GARBAGE-CASE"))
        template = CouponTemplate(name="Garbage template", kind="percent", value=1000, categories="accessory",
                                  min_bill_minor=0, validity_days=30, active=True)
        db.session.add(template)
        rated = _rated_order()
        webhook = _webhook()
        db.session.commit()
        return {**rated, "tracking": order.tracking_token, "webhook": webhook,
                "customer": customer.id, "order": order.id, "staff": staff.id, "sale": sale_id, "paid": paid_id,
                "paid_line": paid_line, "item": item.id, "category": item.category_id, "template": template.id}


def _sales() -> tuple[int, int, int]:
    """An open bill with a 100.00 item in it, and a paid sale of two of them."""
    from sqlalchemy import select

    from crm.catalogue.models import CatalogueItem, ItemCategory
    from crm.catalogue.stock import record_movement
    from crm.sales import checkout, pricing

    category = db.session.scalar(select(ItemCategory).where(ItemCategory.code == "accessory"))
    item = CatalogueItem(sku="GARBAGE-CASE", name="Case", category_id=category.id, price_minor=10000, cost_minor=0,
                         stock_tracked=True)
    db.session.add(item)
    db.session.flush()
    record_movement(db.session, item, "received", 50, actor=None)
    open_bill, paid = checkout.open_sale(db.session, actor=None), checkout.open_sale(db.session, actor=None)
    checkout.add_item(db.session, open_bill, item, 1)
    line = checkout.add_item(db.session, paid, item, 2)
    cashier = factories.staff(role="front_desk")
    checkout.checkout(db.session, paid.id, key="garbage-paid", tenders=[pricing.Tender("card", 20000)],
                      expected_total_minor=20000, actor=cashier, payment_methods=["card"], number_prefix="S-")
    return open_bill.id, paid.id, line.id


def _webhook() -> int:
    from crm.webhooks.models import WebhookEndpoint

    endpoint = WebhookEndpoint(url="https://hooks.example.test/garbage", events=",order.ready,", secret="whsec_g")
    db.session.add(endpoint)
    db.session.flush()
    return endpoint.id


def _rated_order() -> dict:
    """A picked-up repair (status set directly: the checkout is tested elsewhere) with a low rating."""
    from crm.database import utcnow
    from crm.feedback.models import Feedback
    from crm.feedback.sections import form_token

    order = factories.order(factories.customer())
    order.status, order.closed_at = "picked_up", utcnow()
    feedback = Feedback(order_id=order.id, customer_id=order.customer_id, rating=1, follow_up="open")
    db.session.add(feedback)
    db.session.flush()
    return {"feedback": feedback.id, "picked_up_token": order.tracking_token,
            "form_token": form_token(order.tracking_token)}


def db_reset_order(app, order_id):
    """Put the order back to "received" so the next form's status change is a legal one."""
    from sqlalchemy import update

    from crm.orders.models import RepairOrder

    with app.app_context():
        db.session.execute(update(RepairOrder).where(RepairOrder.id == order_id)
                           .values(status="received", closed_at=None))
        db.session.commit()


def _fill(text: str, ids: dict, n: int) -> str:
    """The ids in a form's data ("{customer}") and a number of its own per post ("{n}", for values that must be
    new each time, so that every post gets as deep as a first one)."""
    return re.sub(r"\{(\w+)\}", lambda m: str({**ids, "n": f"{n:04d}"}.get(m.group(1), m.group(0))), text)


def _server_error(send, url, **kwargs) -> str | None:
    """What went wrong when the answer is a server error (the test app lets the exception through), else None."""
    try:
        status = send(url, **kwargs).status_code
    except Exception as exc:  # every error is a finding, listed with the others
        return f"{type(exc).__name__}: {str(exc)[:80]}"
    return str(status) if status >= 500 else None


def test_garbage_in_any_field_of_any_form_never_gives_a_server_error(app, auth, client, ids):
    auth.login("manager")
    token = csrf_token(client, "/customers/new")
    failures = []
    posts = itertools.count(1)
    for path, valid in FORMS:
        url = path.format(**ids)
        for field in valid:
            for value in GARBAGE:
                data = {_fill(name, ids, 0): _fill(text, ids, next(posts)) for name, text in valid.items()}
                data[_fill(field, ids, 0)] = value
                error = _server_error(client.post, url, data={**data, "csrf_token": token})
                if error:
                    failures.append((url, field, repr(value)[:30], error))
        db_reset_order(app, ids["order"])
    for query in QUERIES:
        for value in GARBAGE:
            url = query.format(v=quote(value), **ids)
            if error := _server_error(client.get, url):
                failures.append((url[:60], "query", repr(value)[:30], error))
    assert failures == [], "\n".join(map(str, failures))


def test_url_for_names_in_the_query_string_of_any_paginated_list_never_give_a_server_error(auth, client):
    auth.login("manager")
    failures = []
    for path in PAGINATED.values():
        for name in URL_FOR_NAMES:
            for value in ["x", "POST", "1", "javascript", "", "\x00", "²", "<script>"]:
                url = f"{path}?page=2&{name}={quote(value)}"
                if error := _server_error(client.get, url):
                    failures.append((url[:60], name, repr(value)[:30], error))
    assert failures == [], "\n".join(map(str, failures))


def test_every_paginated_list_is_walked():
    """The lists above are the lists whose templates draw a pager: a new one joins the walk."""
    from pathlib import Path

    templates = Path(__file__).resolve().parent.parent / "templates"
    pagers = {match for path in templates.rglob("*.html")
              for match in re.findall(r"pager\([^)]*'([\w.]+)'\)", path.read_text())}
    assert pagers == set(PAGINATED)


def test_a_pager_link_is_the_list_with_its_query_string_and_the_next_page(app, auth, client):
    with app.app_context():
        customer = factories.customer()
        for _ in range(app.config["PAGE_SIZE"] + 1):
            factories.order(customer)
        db.session.commit()
    auth.login("manager")
    html = client.get("/orders?status=received&endpoint=x&_method=POST&_external=1").get_data(as_text=True)
    links = re.findall(r'class="page-link" href="([^"#]+)"', html)
    assert links == ["/orders?status=received&amp;endpoint=x&amp;_method=POST&amp;_external=1&amp;page=2"]
    second = client.get(links[0].replace("&amp;", "&"))
    assert second.status_code == 200
    assert re.search(r'aria-current="page"><span class="page-link">2<', second.get_data(as_text=True))


def test_a_nul_byte_is_refused_at_the_field_and_the_rest_is_kept(app, auth, client):
    auth.login("front_desk")
    token = csrf_token(client, "/customers/new")
    response = client.post("/customers/new", data={"csrf_token": token, "phone": "067 123 45 67",
                                                   "name": "Ol\x00ena", "notes": "Keeps this note"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'id="name-error"', html)
    assert "Keeps this note" in html


WEBHOOK_GARBAGE = [
    b"[" * 100_000 + b"]" * 100_000,  # nested deeper than Python's recursion limit
    b'{"message": ' * 5_000 + b"{}" + b"}" * 5_000,
    b'{"update_id": 1, "message": {"text": "' + b"x" * 300_000 + b'"}}',  # far larger than any update
    b"x" * 2_000_000,  # above the app's upload limit too
    b"{not json",
    b"\xff\xfe\x00",
    b"[1, 2]",
    b'"an update?"',
    b"",
]


@pytest.mark.parametrize("body", WEBHOOK_GARBAGE, ids=lambda body: repr(body[:12]))
def test_garbage_posted_to_the_telegram_webhook_gets_a_clear_4xx(app, client, monkeypatch, body):
    monkeypatch.setitem(app.config, "TELEGRAM_WEBHOOK_SECRET", "hook-secret")
    response = client.post("/telegram/webhook", data=body, content_type="application/json",
                           headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret"})
    assert 400 <= response.status_code < 500
