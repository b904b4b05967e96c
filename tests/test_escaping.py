"""User text is shown as text on every page: markup stored in any field staff or customers can fill in comes
back escaped wherever it is rendered (labels, errors, tables, receipts, messages, the customer's page).

Every text field gets its own marker; every page of the URL map is rendered as a manager with ids pointing at
those rows. No page may carry a marker as live markup, and every marker must be seen (escaped) on some page, so
the walk cannot pass by not showing the data."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.api import tokens
from crm.auth.models import Role
from crm.catalogue import service as catalogue
from crm.catalogue.models import ItemCategory
from crm.customers.contact import unsubscribe_token
from crm.customers.models import Customer
from crm.database import utcnow
from crm.extensions import db
from crm.locales import lazy_gettext
from crm.loyalty import accounts, coupon_admin
from crm.loyalty.models import Coupon, CouponTemplate, Tier
from crm.notifications.models import MessageTemplate, OutboxMessage
from crm.notifications.outbox import translated_variables
from crm.notifications.render import render_message
from crm.orders import service as order_service
from crm.orders.messages import order_variables
from crm.orders.models import RepairOrder
from crm.orders.status import Status
from crm.sales import checkout, refunds
from crm.sales.models import SaleLine
from crm.webhooks import service as webhooks
from crm.webhooks.models import WebhookDelivery
from tests import factories
from tests.conftest import Auth
from tests.factories import sales as sales_builders
from tests.helpers import app_session

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

LIVE_MARKUP = re.compile(r"<b\s+id=[\"']?xss-", re.IGNORECASE)
NOT_PAGES = {"static", "bootstrap.static", "main.healthz", "customer_public.telegram_webhook"}


def mark(field: str) -> str:
    return f'<b id="xss-{field}">'


FIELDS = ["customer_name", "customer_notes", "staff_name", "technician_name", "brand", "model", "serial",
          "condition", "accessories", "problem", "line_description", "status_note", "item_name", "category",
          "tier", "coupon_template", "promo", "message_subject", "message_body", "refund_reason", "stock_reason",
          "points_reason", "api_token_name", "webhook_description", "webhook_error"]


@pytest.fixture
def hostile(app):
    """One of everything a user can name, each named with its marker."""
    with app_session(app) as session:
        manager = factories.staff(role=Role.MANAGER, full_name=mark("staff_name"))
        tech = factories.staff(role=Role.TECHNICIAN, full_name=mark("technician_name"))
        customer = factories.customer(name=mark("customer_name"), notes=mark("customer_notes"),
                                      email="hostile@example.com")
        bronze = session.scalar(select(Tier).order_by(Tier.rank))
        bronze.name = mark("tier")
        accounts.enrol(session, customer, actor=manager)

        category = catalogue.create_category(session, mark("category"))
        item = catalogue.create_item(session, catalogue.ItemData(sku="XSS-1", name=mark("item_name"),
                                                                 category_id=category.id, price_minor=5000))
        catalogue.receive_stock(session, item, 10, actor=manager)
        catalogue.adjust_stock(session, item, -1, actor=manager, reason=mark("stock_reason"))
        accessory = catalogue.create_item(session, catalogue.ItemData(
            sku="XSS-2", name=mark("item_name") + " case", price_minor=20000,
            category_id=session.scalar(select(ItemCategory.id).where(ItemCategory.code == "accessory"))))
        catalogue.receive_stock(session, accessory, 10, actor=manager)

        order = factories.order(customer, created_by=manager, brand=mark("brand"), model=mark("model"),
                                serial_number=mark("serial"), condition=mark("condition"),
                                accessories=mark("accessories"), problem=mark("problem"), technician_id=tech.id)
        order_service.add_line(session, order, kind="labour", description=mark("line_description"), quantity=1,
                               unit_price_minor=100000, actor=tech)
        order_service.add_line(session, order, kind="part", quantity=1, actor=tech, item=item)
        order_service.change_status(session, order, Status.DIAGNOSING, actor=tech, note=mark("status_note"))
        order_service.change_status(session, order, Status.READY, actor=tech)

        sale = checkout.sale_for_repair(session, order.id, actor=manager)
        checkout.add_item(session, sale, accessory, 2)
        sale = sales_builders.pay(session, sale.id, actor=manager)
        case_line = session.scalar(select(SaleLine).where(SaleLine.sale_id == sale.id,
                                                          SaleLine.item_id == accessory.id))
        sales_builders.give_back(session, sale.id, [refunds.RefundRequest(case_line.id, 1)], actor=manager,
                                 reason=mark("refund_reason"))
        accounts.adjust_points(session, customer, 10, reason=mark("points_reason"), key="xss-adjust", actor=manager)

        cart = checkout.open_sale(session, actor=manager, customer=customer)
        checkout.add_item(session, cart, accessory, 1)

        template = CouponTemplate(name=mark("coupon_template"), kind="percent", value=1000, categories="accessory",
                                  min_bill_minor=0, validity_days=30, active=True)
        session.add(template)
        session.flush()
        now = utcnow()
        promo = coupon_admin.create_promo_code(session, template, "XSSPROMO", 5, now - timedelta(days=1),
                                               now + timedelta(days=30), actor=manager)
        promo.code = mark("promo")
        session.add(MessageTemplate(event="order_received", channel="email", language="en",
                                    subject=mark("message_subject"),
                                    body=mark("message_body") + "{{ customer_name }} {{ device }}"))
        tokens.create_token(session, name=mark("api_token_name"), role="read_only", expires_at=None, actor=manager,
                            now=now)
        endpoint, _secret = webhooks.create_endpoint(
            session, webhooks.EndpointData(url="https://hooks.example.test/xss", events=["order.ready"],
                                           description=mark("webhook_description")),
            actor=manager, allow_http_loopback=False)
        session.add(WebhookDelivery(endpoint_id=endpoint.id, event_id="evt_xss", event="order.ready", body="{}",
                                    status="failed", attempts=6, last_error=mark("webhook_error")))
        session.flush()
        failed = session.scalar(select(OutboxMessage).where(OutboxMessage.customer_id == customer.id).limit(1))
        if failed is not None:
            failed.status = "failed"
        return {"customer_id": customer.id, "order_id": order.id, "sale_id": cart.id, "paid_sale_id": sale.id,
                "item_id": item.id, "category_id": category.id, "tier_id": bronze.id, "template_id": template.id,
                "user_id": tech.id, "tracking_token": order.tracking_token, "token": unsubscribe_token(customer.id),
                "event": "order_received", "channel": "email", "language": "en", "manager": manager.username,
                "endpoint_id": endpoint.id}


def _pages(app, ids):
    """Every GET page of the URL map, with the hostile rows' ids, and a few pages with a search."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in NOT_PAGES or "GET" not in rule.methods or rule.rule.startswith("/api/"):
            continue  # the API answers JSON to token holders (tests/api), not pages
        values = {name: ids[name] for name in rule.arguments}
        url = app.url_map.bind("localhost").build(rule.endpoint, values)
        yield url
        if rule.endpoint.startswith("sales.") and "sale_id" in rule.arguments:
            yield app.url_map.bind("localhost").build(rule.endpoint, {"sale_id": ids["paid_sale_id"]})
    yield from ("/customers?q=xss", "/orders?q=xss", "/catalogue?q=xss", "/customers?q=xss&partial=1",
                "/catalogue?q=xss&partial=1", "/orders?status=ready", "/sales/end-of-day", "/notifications/",
                "/loyalty/audit")


def test_lazy_translations_are_plain_text_in_html():
    label = lazy_gettext("Units of %(item)s to refund", item=mark("lazy"))
    assert not LIVE_MARKUP.search(str(label.__html__()))
    assert "&lt;b id=&#34;xss-lazy&#34;&gt;" in label.__html__()


def test_no_module_makes_flask_babels_html_safe_lazy_strings():
    """crm.locales.lazy_gettext is the project's one lazy translation: Flask-Babel's own declares itself HTML-safe."""
    from pathlib import Path

    offenders = [str(path) for path in Path("crm").rglob("*.py") if path.name != "locales.py"
                 and re.search(r"from flask_babel import[^\n]*\b(lazy_gettext|lazy_ngettext|LazyString)\b",
                               path.read_text())]
    assert not offenders


def test_every_page_shows_user_text_escaped(app, client, hostile):
    Auth(app, client).login(Role.MANAGER)
    seen: set[str] = set()
    for url in _pages(app, hostile):
        response = client.get(url)
        assert response.status_code in (200, 302), (url, response.status_code)
        html = response.get_data(as_text=True)
        live = LIVE_MARKUP.search(html)
        assert live is None, f"{url} renders user text as markup: ...{html[max(0, live.start() - 200):live.end() + 80]}"
        seen.update(field for field in FIELDS if f"xss-{field}" in html.lower())
    assert set(FIELDS) - seen == set(), "these markers were never shown, so their escaping was not checked"


def test_the_technician_sees_the_same_pages_escaped(app, client, hostile):
    Auth(app, client).login(Role.TECHNICIAN)
    for url in ("/orders/queue", f"/orders/{hostile['order_id']}", f"/orders/{hostile['order_id']}/edit",
                f"/customers/{hostile['customer_id']}", "/orders"):
        html = client.get(url).get_data(as_text=True)
        assert not LIVE_MARKUP.search(html), url


def test_messages_to_the_customer_escape_user_text_in_their_html(app, hostile):
    """The e-mail of an order, worded by a manager's template holding markup, for a customer named with markup."""
    with app.app_context():
        order = db.session.get(RepairOrder, hostile["order_id"])
        customer = db.session.get(Customer, hostile["customer_id"])
        variables = translated_variables(order_variables(order, customer), "en")
        rendered = render_message(db.session, "order_received", "email", "en", variables, default_language="en",
                                  unsubscribe_url=None)
        db.session.remove()
    assert "xss-customer_name" in rendered.html and "xss-message_body" in rendered.html
    assert "xss-brand" in rendered.html
    assert not LIVE_MARKUP.search(rendered.html)


def test_form_errors_about_user_text_are_escaped(app, client, hostile):
    """An error message naming an item (here: more units than are left to refund) names it as text."""
    Auth(app, client).login(Role.MANAGER)
    page = client.get(f"/sales/{hostile['paid_sale_id']}/refund").get_data(as_text=True)
    assert "xss-item_name" in page and not LIVE_MARKUP.search(page)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    key = re.search(r'name="key"[^>]*value="([^"]+)"', page)
    quantities = dict.fromkeys(re.findall(r'name="(qty_\d+)"', page), "99")
    response = client.post(f"/sales/{hostile['paid_sale_id']}/refund",
                           data={"csrf_token": token, "key": key.group(1) if key else "k", "reason": "x",
                                 "method": "cash", **quantities})
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 400, 422), response.status_code
    assert not LIVE_MARKUP.search(html)


def test_a_promo_code_row_with_markup_is_listed_escaped(app, client, hostile):
    Auth(app, client).login(Role.MANAGER)
    with app.app_context():
        assert db.session.scalar(select(Coupon.code).where(Coupon.code.like("%xss-promo%")))
        db.session.remove()
    html = client.get("/loyalty/coupons").get_data(as_text=True)
    assert "xss-promo" in html.lower() and not LIVE_MARKUP.search(html)
