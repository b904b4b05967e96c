"""Every view says who may use it, and every role gets exactly that: the URL map is walked, not copied.

Each rule is requested as anonymous, technician, front desk and manager; the expectation comes from the view's
``allowed_roles`` (set by crm.auth.access.roles_required / public). A short hand-written table for key pages
below makes sure a bug in the decorator itself cannot hide behind expectations derived from it."""

import re
from datetime import timedelta

import pytest

from crm import create_app
from crm.auth.models import Role, StaffUser
from crm.auth.service import find_by_username
from crm.customers.contact import unsubscribe_token
from crm.database import utcnow
from crm.extensions import db
from crm.loyalty.models import CouponTemplate, Tier
from crm.notifications.models import OutboxMessage
from crm.orders import service as order_service
from tests import factories
from tests.conftest import Auth, csrf_token
from tests.helpers import app_session

# argon2id at its real cost is checked in tests/auth/test_auth_service.py; here it would only be slow.
pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

NOT_CHECKED = {"static", "bootstrap.static"}
ROLES = ["anonymous", Role.TECHNICIAN.value, Role.FRONT_DESK.value, Role.MANAGER.value]
OK = {200, 302, 303}
WEBHOOK_SECRET = "access-test-webhook-secret"

# Query strings and form data that make a request do its real job rather than bounce off validation.
QUERY = {"orders.new": "customer_id={customer_id}"}
POST_DATA = {
    "auth.set_language": {"language": "uk", "next": "/orders"},
    "orders.change_status": {"status": "cancelled", "expected_from": "received", "note": "access test"},
    "orders.add_line": {"kind": "labour", "description": "Diagnostics", "quantity": "1", "price": "100"},
    "sales.add_item": {"sku": "ACCESS-CASE", "quantity": "1"},
    "sales.set_customer": {"walk_in": "1"},
    "sales.pay": {"key": "access-test-key", "expected_total": "10000", "pay_0": "100"},
    "orders.phone_decision": {"decision": "approved", "note": "access test", "quote_version": "1"},
    "catalogue.receive": {"quantity": "2", "note": "access test"},
    "catalogue.adjust": {"quantity": "-1", "reason": "access test"},
    "loyalty.adjust": {"key": "access-adjust", "points": "5", "reason": "access test"},
    "loyalty.referrer": {"referred_by": "+380671239999"},  # the referrer made by the objects fixture
    "notifications.settings": {"quiet_start": "21:00", "quiet_end": "09:00", "max_attempts": "6",
                               "catch_up_days": "7"},
    "orders.reminder_settings": {"warranty_enabled": "y", "warranty_days_before": "14", "battery_enabled": "y",
                                 "battery_months": "12"},
    "notifications.edit_template": {"subject": "Hi", "body": "Hello {{ customer_name }}", "submit": "Save"},
    "loyalty.earn_rates": {"rate_repair_labour": "5", "rate_repair_part": "0", "rate_accessory": "3",
                           "rate_spare_part": "0", "rate_service": "3"},
    "feedback.follow_up": {"f9004-status": "done", "f9004-note": "access test"},
    "feedback_public.leave": {"rating": "5", "comment": "access test"},
    "webhooks.index": {"url": "https://hooks.example.test/access", "events": "order.ready"},
    "webhooks.endpoint": {"url": "https://hooks.example.test/access", "events": "sale.paid", "active": "y"},
}
# URL arguments read from another test object than the one of the same name: the rating form needs a picked-up order.
URL_IDS = {"feedback_public.leave": {"tracking_token": "picked_up_tracking_token"}}


def _token_views(app) -> set[str]:
    """The API's views: they take a token, not a login (their role matrix is tests/api/test_api_access.py)."""
    return {e for e, view in app.view_functions.items() if getattr(view, "allowed_roles", None) == "api"}


def _collect_rules():
    """The URL rules, read from an app built for the purpose (parametrization happens before fixtures)."""
    app = create_app("test", SQLALCHEMY_DATABASE_URI="sqlite://")
    skipped = NOT_CHECKED | _token_views(app)
    rules = sorted((r for r in app.url_map.iter_rules() if r.endpoint not in skipped), key=lambda r: r.rule)
    with app.app_context():
        db.engine.dispose()
    return [(rule.endpoint, rule.rule, frozenset(rule.methods)) for rule in rules]


RULES = _collect_rules()


@pytest.fixture
def objects(app):
    """Real rows for every kind of id a URL can carry, with ids that differ from each other (so a view that
    reads the wrong argument does not pass by luck)."""
    with app_session(app) as session:
        customers = [factories.customer() for _ in range(3)]
        other_order = factories.order(customers[0])
        for n in range(3):
            order_service.add_line(session, other_order, kind="labour", description=f"Work {n}", quantity=1,
                                   unit_price_minor=1000, actor=None)
        order = factories.order(customers[2])
        factories.customer(name="Access Referrer", phone="+380671239999")
        line = order_service.add_line(session, order, kind="part", description="Screen", quantity=1,
                                      unit_price_minor=150000, actor=None)
        staff = factories.staff(role=Role.TECHNICIAN)
        ids = {"customer_id": customers[2].id, "order_id": order.id, "line_id": line.id, "user_id": staff.id}
        ids["sale_id"] = _open_sale_with_one_item(session, taken=set(ids.values()))
        ids["item_id"], ids["category_id"] = _stocked_item_and_category(session, taken=set(ids.values()))
        # A tier and a coupon template with ids no other object has.
        session.add(Tier(id=9001, name="Access tier", rank=50, earn_multiplier_pct=100, accessory_discount_bp=0,
                         free_diagnostics=False, queue_priority=False))
        session.add(CouponTemplate(id=9002, name="Access coupon", kind="percent", value=1000, categories="accessory",
                                   min_bill_minor=0, validity_days=30, active=True))
        session.flush()
        ids["tier_id"], ids["template_id"] = 9001, 9002
        ids["token"] = unsubscribe_token(customers[2].id)  # the unsubscribe link of a marketing message
        ids["tracking_token"] = _awaiting_approval(session).tracking_token  # the customer's page, with a quote
        failed = OutboxMessage(id=9003, event="welcome", kind="service", customer_id=customers[2].id, channel="email",
                               address="a@example.com", status="failed", attempts=6, last_error="access test")
        session.add(failed)
        session.flush()
        ids.update(message_id=9003, event="welcome", channel="email", language="en")
        ids.update(_rated_order(session))
        ids["token_id"] = _api_token(session)
        ids.update(_webhook_with_a_failed_delivery(session))
    assert len(set(ids.values())) == len(ids), ids
    return ids


def _api_token(session) -> int:
    """An API token with an id no other object has (the revoke button's target)."""
    from crm.api.models import ApiToken

    session.add(ApiToken(id=9005, name="Access token", role="read_only", token_hash="0" * 64, prefix="crm_access"))
    session.flush()
    return 9005


def _webhook_with_a_failed_delivery(session) -> dict:
    """A webhook endpoint (id 9006) with a failed delivery (id 9007): the Retry button's target."""
    from crm.webhooks.models import WebhookDelivery, WebhookEndpoint

    session.add(WebhookEndpoint(id=9006, url="https://hooks.example.test/access", events=",order.ready,",
                                secret="whsec_access", active=True))
    session.flush()
    session.add(WebhookDelivery(id=9007, endpoint_id=9006, event_id="evt_access", event="order.ready", body="{}",
                                status="failed", attempts=6, last_error="access test"))
    session.flush()
    return {"endpoint_id": 9006, "delivery_id": 9007}


def _rated_order(session) -> dict:
    """A picked-up repair (status set directly: the checkout is tested elsewhere) with a low rating, id 9004."""
    from crm.feedback.models import Feedback

    order = factories.order(factories.customer())
    order.status, order.closed_at = "picked_up", utcnow()
    session.add(Feedback(id=9004, order_id=order.id, customer_id=order.customer_id, rating=1, follow_up="open"))
    session.flush()
    return {"feedback_id": 9004, "picked_up_tracking_token": order.tracking_token}


def _awaiting_approval(session):
    """An order whose quote waits for the customer (the tracking page's Approve / Decline)."""
    manager = factories.staff(role=Role.MANAGER)
    waiting = factories.order()
    order_service.add_line(session, waiting, kind="labour", description="Quote", quantity=1, unit_price_minor=100,
                           actor=None)
    order_service.change_status(session, waiting, "diagnosing", actor=manager)
    order_service.change_status(session, waiting, "awaiting_approval", actor=manager)
    return waiting


def _open_sale_with_one_item(session, taken: set[int]) -> int:
    """An open bill holding one 100.00 case (see POST_DATA["sales.pay"]), with an id no other object has."""
    from sqlalchemy import select

    from crm.catalogue.models import CatalogueItem, ItemCategory
    from crm.catalogue.stock import record_movement
    from crm.sales import checkout

    category = session.scalar(select(ItemCategory).where(ItemCategory.code == "accessory"))
    item = CatalogueItem(sku="ACCESS-CASE", name="Access test case", category_id=category.id, price_minor=10000,
                         cost_minor=0, stock_tracked=True)
    session.add(item)
    session.flush()
    record_movement(session, item, "received", 5, actor=None)
    sale = checkout.open_sale(session, actor=None)
    while sale.id in taken:
        sale = checkout.open_sale(session, actor=None)
    checkout.add_item(session, sale, item, 1)
    return sale.id


def _stocked_item_and_category(session, taken: set[int]) -> tuple[int, int]:
    """A stock-tracked item with 5 units (see POST_DATA["catalogue.adjust"]) and a category of its own, with ids
    no other object has."""
    from crm.catalogue import service as catalogue

    category = catalogue.create_category(session, "Access category")
    while category.id in taken:
        category = catalogue.create_category(session, f"Access category {category.id}")
    data = catalogue.ItemData(sku="ACCESS-ITEM", name="Access test item", category_id=category.id, price_minor=500)
    item = catalogue.create_item(session, data)
    while item.id in taken | {category.id}:
        data.sku = f"ACCESS-ITEM-{item.id}"
        item = catalogue.create_item(session, data)
    catalogue.receive_stock(session, item, 5, actor=None)
    return item.id, category.id


def login_as(app, client, role: str) -> None:
    if role != "anonymous":
        Auth(app, client).login(role)


def request_rule(app, client, endpoint, rule, methods, ids):
    arguments = next(r.arguments for r in app.url_map.iter_rules(endpoint) if r.rule == rule)
    missing = arguments - ids.keys()
    assert not missing, f"{rule}: no test object for URL argument(s) {sorted(missing)}; add one to `objects`"
    names = URL_IDS.get(endpoint, {})
    url = app.url_map.bind("localhost").build(endpoint, {name: ids[names.get(name, name)] for name in arguments})
    if endpoint in QUERY:
        url += "?" + QUERY[endpoint].format(**ids)
    if "GET" in methods:
        return client.get(url)
    if endpoint == "customer_public.telegram_webhook":  # Telegram proves itself with a secret header, not a login
        return client.post(url, json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
    if endpoint == "feedback_public.leave":  # no session: the form token is bound to the tracking token
        from crm.feedback.sections import form_token

        with app.app_context():
            signed = form_token(ids["picked_up_tracking_token"])
        return client.post(url, data={**POST_DATA[endpoint], "form_token": signed})
    if endpoint == "tracking.decide_quote":  # the customer's form carries a token bound to the tracking token
        html = client.get(f"/t/{ids['tracking_token']}").get_data(as_text=True)
        form = dict(re.findall(r'name="(token|version)" value="([^"]*)"', html))
        return client.post(url, data={**form, "decision": "approve"})
    token = csrf_token(client, "/login" if client.get_cookie("session") is None else "/account/password")
    return client.post(url, data={**POST_DATA.get(endpoint, {}), "csrf_token": token})


def test_every_view_declares_who_may_use_it(app):
    undeclared = sorted(endpoint for endpoint, view in app.view_functions.items()
                        if endpoint not in NOT_CHECKED and not hasattr(view, "allowed_roles"))
    assert not undeclared, f"views without @roles_required or @public: {undeclared}"


def test_declared_roles_are_known_roles_and_always_include_the_manager(app):
    for endpoint, view in app.view_functions.items():
        allowed = getattr(view, "allowed_roles", "public")
        if allowed in ("public", "api"):
            continue
        assert allowed <= set(Role), (endpoint, allowed)
        assert Role.MANAGER in allowed, endpoint


def test_the_walk_covers_the_whole_url_map(app):
    skipped = NOT_CHECKED | _token_views(app)
    assert {(r.endpoint, r.rule) for r in app.url_map.iter_rules() if r.endpoint not in skipped} == {
        (endpoint, rule) for endpoint, rule, _ in RULES}
    assert {"auth.staff_list", "orders.queue", "customers.new", "orders.remove_line"} <= {e for e, _, _ in RULES}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("endpoint", "rule", "methods"), RULES, ids=[f"{e}:{r}" for e, r, _ in RULES])
def test_each_role_gets_what_the_view_declares(app, client, objects, endpoint, rule, methods, role, monkeypatch):
    monkeypatch.setitem(app.config, "TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET)
    allowed = getattr(app.view_functions[endpoint], "allowed_roles", None)
    assert allowed is not None, f"{endpoint} declares no allowed_roles"
    login_as(app, client, role)

    response = request_rule(app, client, endpoint, rule, methods, objects)
    location = response.headers.get("Location", "")
    sent_to_login = response.status_code == 302 and location.startswith("/login?next=")

    if allowed == "public":
        assert response.status_code in OK and not sent_to_login, (response.status_code, location)
    elif role == "anonymous":
        assert sent_to_login, f"anonymous got {response.status_code} {location}"
    elif role in allowed:
        assert response.status_code in OK, response.get_data(as_text=True)[:2000]
        assert not sent_to_login, location
    else:
        assert response.status_code == 403, (response.status_code, location)


# A hand copy of a few decisions that matter, independent of allowed_roles.
KEY_DECISIONS = [
    ("anonymous", "/staff", 302),
    ("anonymous", "/customers", 302),
    ("technician", "/staff", 403),
    ("technician", "/staff/new", 403),
    ("technician", "/customers/new", 403),
    ("technician", "/orders/queue", 200),
    ("technician", "/customers", 200),
    ("front_desk", "/orders/queue", 403),
    ("front_desk", "/staff", 403),
    ("front_desk", "/customers/new", 200),
    ("manager", "/staff", 200),
    ("manager", "/staff/new", 200),
    ("manager", "/orders/queue", 200),
    ("manager", "/customers/new", 200),
    ("technician", "/catalogue", 200),
    ("technician", "/catalogue/new", 403),
    ("front_desk", "/catalogue/low-stock", 403),
    ("front_desk", "/catalogue/categories", 403),
    ("manager", "/catalogue/low-stock", 200),
    ("manager", "/reports/loyalty", 200),
    ("front_desk", "/reports/loyalty", 403),
    ("technician", "/reports/loyalty?format=csv&table=points", 403),
    ("manager", "/reports/staff", 200),
    ("front_desk", "/reports/staff", 403),
    ("technician", "/reports/staff?format=csv&table=technicians", 403),
    ("technician", "/reports/my-results", 200),
    ("front_desk", "/reports/my-results", 403),
    ("manager", "/reports", 200),
    ("manager", "/reports?format=csv&table=revenue", 200),
    ("front_desk", "/reports", 403),
    ("technician", "/reports", 403),
    ("front_desk", "/reports?format=csv&table=headline", 403),
    ("manager", "/audit", 200),
    ("front_desk", "/audit", 403),
    ("technician", "/audit?format=csv", 403),
    ("anonymous", "/audit?format=csv", 302),
    ("anonymous", "/login", 200),
    ("anonymous", "/healthz", 200),
    ("anonymous", "/t/not-a-token", 404),
]


@pytest.mark.parametrize(("role", "path", "status"), KEY_DECISIONS)
def test_key_pages_by_role(app, client, role, path, status):
    login_as(app, client, role)
    response = client.get(path)
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"].startswith("/login?next=")
    if status == 403:
        assert "Your role does not give access to this page." in response.get_data(as_text=True)


def test_technician_cannot_create_staff_by_posting_the_form(app, client):
    login_as(app, client, "technician")
    token = csrf_token(client, "/account/password")
    response = client.post("/staff/new", data={"username": "sneaky", "full_name": "Sneaky", "role": "manager",
                                               "password": "a-long-password", "csrf_token": token})
    assert response.status_code == 403
    with app.app_context():
        assert find_by_username(db.session, "sneaky") is None
        db.session.remove()


def test_front_desk_cannot_take_an_order_into_their_queue(app, client, objects):
    login_as(app, client, "front_desk")
    token = csrf_token(client, "/account/password")
    response = client.post(f"/orders/{objects['order_id']}/assign-me", data={"csrf_token": token})
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["technician", "front_desk"])
def test_only_a_manager_can_unlock_a_staff_account(app, client, role):
    with app_session(app) as session:
        locked = factories.staff(role=Role.MANAGER, username="locked-boss")
        locked.locked_until = utcnow() + timedelta(minutes=10)
        session.flush()
        locked_id = locked.id
    login_as(app, client, role)
    token = csrf_token(client, "/account/password")
    assert client.post(f"/staff/{locked_id}/unlock", data={"csrf_token": token}).status_code == 403
    with app.app_context():
        assert db.session.get(StaffUser, locked_id).locked_until is not None
        db.session.remove()


# --- caching ------------------------------------------------------------------------------------------------------
# Desk computers are shared: a staff page must not stay in the browser's cache for the next person (back button,
# disk cache). The customer's own pages keep the headers they set themselves, and static files keep their caching.
PUBLIC_PAGE_CACHE_CONTROL = {"tracking.track": "no-store",  # set by the tracking page itself
                             "feedback_public.leave": "no-store",
                             "widget.status": "no-store", "widget.labels": "no-store"}  # the widget's answers


@pytest.mark.parametrize(("endpoint", "rule", "methods"), [r for r in RULES if r[0] != "auth.logout"],
                         ids=[f"{e}:{r}" for e, r, _ in RULES if e != "auth.logout"])
def test_every_response_to_a_logged_in_staff_member_is_not_stored(app, client, objects, endpoint, rule, methods,
                                                                   monkeypatch):
    monkeypatch.setitem(app.config, "TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET)
    login_as(app, client, Role.MANAGER.value)
    response = request_rule(app, client, endpoint, rule, methods, objects)
    assert response.headers.get("Cache-Control") == "no-store", (response.status_code, response.headers)


@pytest.mark.parametrize("role", [Role.TECHNICIAN.value, Role.FRONT_DESK.value])
def test_error_pages_shown_to_staff_are_not_stored_either(client, app, role):
    login_as(app, client, role)
    for path in ("/staff", "/orders/999999", "/no/such/page"):  # 403 for both roles, 404, 404
        response = client.get(path)
        assert response.status_code in (403, 404) and response.headers.get("Cache-Control") == "no-store", path


@pytest.mark.parametrize(("endpoint", "rule", "methods"), RULES, ids=[f"{e}:{r}" for e, r, _ in RULES])
def test_pages_for_customers_and_visitors_keep_their_own_cache_headers(app, client, objects, endpoint, rule, methods,
                                                                       monkeypatch):
    monkeypatch.setitem(app.config, "TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET)
    response = request_rule(app, client, endpoint, rule, methods, objects)
    assert response.headers.get("Cache-Control") == PUBLIC_PAGE_CACHE_CONTROL.get(endpoint)


def test_static_files_keep_their_caching_for_staff(app, client):
    login_as(app, client, Role.MANAGER.value)
    for path in ("/static/css/app.css", "/bootstrap/static/css/bootstrap.min.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" not in response.headers.get("Cache-Control", ""), path
        response.close()
