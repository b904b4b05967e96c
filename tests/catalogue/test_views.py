"""The catalogue pages through Flask's test client: list and search, items, stock forms, categories,
the low-stock list, catalogue parts on a repair order, roles and statement counts."""

import itertools
import re

import pytest
from sqlalchemy import select

from crm.auth.models import Role, StaffUser
from crm.catalogue import service as catalogue
from crm.catalogue.models import CatalogueItem, ItemCategory, StockMovement
from crm.catalogue.stock import movements_sum
from crm.extensions import db
from crm.orders import service as order_service
from crm.orders.models import RepairOrderLine
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import FormPage, app_session

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
_numbers = itertools.count(1)


def add_item(sku, name, price_minor=35000, on_hand=0, reorder_level=0, category="accessory", **kw) -> int:
    category_id = db.session.scalar(select(ItemCategory.id).where(ItemCategory.code == category))
    item = catalogue.create_item(db.session, catalogue.ItemData(
        sku=sku, name=name, category_id=category_id, price_minor=price_minor, reorder_level=reorder_level, **kw))
    if on_hand:
        catalogue.receive_stock(db.session, item, on_hand, actor=None)
    return item.id


def staff_member(role=Role.TECHNICIAN) -> StaffUser:
    n = next(_numbers)
    user = StaffUser(username=f"cat-{role}-{n}", full_name=f"Cat {role} {n}", role=role, password_hash="!")
    db.session.add(user)
    db.session.flush()
    return user


def item_form(token, category_id, **changes) -> dict:
    form = {"csrf_token": token, "sku": "case-ip13", "name": "Silicone case iPhone 13", "category_id": str(category_id),
            "price": "350", "cost": "120,50", "stock_tracked": "y", "reorder_level": "3", "active": "y"}
    form.update(changes)
    return form


@pytest.fixture
def accessory_id(app):
    with app_session(app) as session:
        return session.scalar(select(ItemCategory.id).where(ItemCategory.code == "accessory"))


@pytest.fixture
def manager(auth):
    return auth.login(Role.MANAGER)


def get_item(app, sku) -> CatalogueItem:
    with app_session(app) as session:
        item = session.scalar(select(CatalogueItem).where(CatalogueItem.sku == sku))
        session.expunge_all()
        return item


# --- roles ------------------------------------------------------------------------------------------

def test_the_desk_may_receive_stock_but_only_the_manager_adjusts_it(app, auth, client):
    with app_session(app):
        item_id = add_item("CHG-20W", "Charger 20 W", on_hand=2)
    auth.login(Role.TECHNICIAN)
    token = csrf_token(client, f"/catalogue/{item_id}")
    assert client.post(f"/catalogue/{item_id}/receive", data={"csrf_token": token, "quantity": "5"}).status_code == 403
    html = client.get(f"/catalogue/{item_id}").get_data(as_text=True)
    assert "Receive stock" not in html and "Adjust stock" not in html
    auth.logout()
    auth.login(Role.FRONT_DESK)
    token = csrf_token(client, f"/catalogue/{item_id}")
    html = client.get(f"/catalogue/{item_id}").get_data(as_text=True)
    assert "Receive stock" in html and "Adjust stock" not in html
    assert client.post(f"/catalogue/{item_id}/receive", data={"csrf_token": token, "quantity": "5"}).status_code == 302
    assert client.post(f"/catalogue/{item_id}/adjust",
                       data={"csrf_token": token, "quantity": "-1", "reason": "x"}).status_code == 403
    assert get_item(app, "CHG-20W").on_hand == 7


def test_navigation_shows_the_catalogue_to_all_and_low_stock_to_managers(auth, client):
    auth.login(Role.TECHNICIAN)
    nav = client.get("/catalogue").get_data(as_text=True).split("</nav>")[0]
    assert 'href="/catalogue"' in nav and 'href="/catalogue/low-stock"' not in nav
    auth.logout()
    auth.login(Role.MANAGER)
    nav = client.get("/catalogue").get_data(as_text=True).split("</nav>")[0]
    assert 'href="/catalogue"' in nav and 'href="/catalogue/low-stock"' in nav


# --- items ------------------------------------------------------------------------------------------

def test_a_manager_adds_an_item_and_the_sku_is_stored_upper_case(app, client, manager, accessory_id):
    token = csrf_token(client, "/catalogue/new")
    response = client.post("/catalogue/new", data=item_form(token, accessory_id))
    assert response.status_code == 302
    item = get_item(app, "CASE-IP13")
    assert response.headers["Location"] == f"/catalogue/{item.id}"
    assert (item.name, item.price_minor, item.cost_minor, item.stock_tracked, item.reorder_level, item.active) == (
        "Silicone case iPhone 13", 35000, 12050, True, 3, True)


def test_an_invalid_item_form_is_422_with_errors_at_the_fields_and_what_was_typed(app, client, manager, accessory_id):
    token = csrf_token(client, "/catalogue/new")
    response = client.post("/catalogue/new", data=item_form(token, accessory_id, price="3,50,0", name="",
                                                              reorder_level="-2", stock_tracked=""))
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert set(page.errors) == {"price", "name", "reorder_level"}
    assert (page.values["sku"], page.values["price"], page.values["cost"], page.values["reorder_level"]) == (
        "case-ip13", "3,50,0", "120,50", "-2")
    assert page.values["stock_tracked"] is False and page.values["active"] is True
    assert page.values["category_id"] == str(accessory_id)
    assert get_item(app, "CASE-IP13") is None


def test_a_taken_sku_is_refused_at_the_field_naming_the_item_that_has_it(app, client, manager, accessory_id):
    with app_session(app):
        existing_id = add_item("CASE-IP13", "Silicone case iPhone 13")
    token = csrf_token(client, "/catalogue/new")
    response = client.post("/catalogue/new", data=item_form(token, accessory_id, sku=" Case-ip13 ", name="Other"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert FormPage(html).errors == {"sku": ["SKU CASE-IP13 is already used by “Silicone case iPhone 13”."]}
    assert f'href="/catalogue/{existing_id}"' in html
    assert FormPage(html).values["name"] == "Other"


def test_a_manager_edits_an_item(app, client, manager, accessory_id):
    with app_session(app):
        item_id = add_item("OLD-1", "Old name", price_minor=1000, cost_minor=500)
    page = FormPage(client.get(f"/catalogue/{item_id}/edit").get_data(as_text=True))
    assert (page.values["sku"], page.values["price"], page.values["cost"]) == ("OLD-1", "10.00", "5.00")
    token = csrf_token(client, f"/catalogue/{item_id}/edit")
    response = client.post(f"/catalogue/{item_id}/edit",
                           data=item_form(token, accessory_id, sku="new-1", name="New name", active=""))
    assert response.status_code == 302
    item = get_item(app, "NEW-1")
    assert (item.id, item.name, item.active, item.search_text) == (item_id, "New name", False, "new-1 new name")


def test_stopping_tracking_with_stock_on_hand_is_refused_at_the_checkbox(app, client, manager, accessory_id):
    with app_session(app):
        item_id = add_item("TRK-1", "Tracked", on_hand=2)
    token = csrf_token(client, f"/catalogue/{item_id}/edit")
    response = client.post(f"/catalogue/{item_id}/edit",
                           data=item_form(token, accessory_id, sku="TRK-1", name="Renamed", stock_tracked=""))
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert list(page.errors) == ["stock_tracked"]
    assert page.values["name"] == "Renamed"
    assert get_item(app, "TRK-1").name == "Tracked"


# --- list, search, low stock ------------------------------------------------------------------------

def test_the_list_shows_sku_name_category_price_stock_and_state(app, auth, client):
    with app_session(app):
        add_item("CASE-1", "Silicone case", price_minor=35000, on_hand=4)
        add_item("SVC-FIT", "Screen protector installation", price_minor=15000, category="service",
                 stock_tracked=False)
        add_item("OLD-1", "Old case", active=False)
    auth.login(Role.TECHNICIAN)
    html = client.get("/catalogue").get_data(as_text=True)
    rows = re.findall(r"<tr class=\"[^\"]*\">(.*?)</tr>", html, re.S)
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]
    assert text == ["SVC-FIT Screen protector installation Services UAH150.00 not tracked Active",
                    "CASE-1 Silicone case Accessories UAH350.00 4 Active",
                    "OLD-1 Old case Accessories UAH350.00 0 Inactive"]


def test_search_by_sku_or_name_and_the_live_search_fragment(app, auth, client):
    with app_session(app):
        add_item("CASE-IP13", "Silicone case iPhone 13")
        add_item("GLASS-IP13", "Tempered glass iPhone 13")
        add_item("CHG-20W", "Charger 20 W")
    auth.login(Role.FRONT_DESK)
    html = client.get("/catalogue?q=Glass").get_data(as_text=True)
    assert "GLASS-IP13" in html and "CASE-IP13" not in html and 'value="Glass"' in html
    fragment = client.get("/catalogue?q=ip13&partial=1").get_data(as_text=True)
    assert "<html" not in fragment and "CASE-IP13" in fragment and "GLASS-IP13" in fragment
    assert "CHG-20W" not in fragment
    assert "No item matches “zzz”." in client.get("/catalogue?q=zzz").get_data(as_text=True)


def test_the_low_stock_page_lists_what_to_reorder(app, client, manager):
    with app_session(app):
        add_item("LOW-1", "Cable almost gone", on_hand=1, reorder_level=5)
        add_item("OK-1", "Plenty of cases", on_hand=10, reorder_level=5)
        add_item("OFF-1", "Discontinued", reorder_level=5, active=False)
    html = client.get("/catalogue/low-stock").get_data(as_text=True)
    assert "Cable almost gone" in html
    assert "Plenty of cases" not in html and "Discontinued" not in html


# --- stock forms ------------------------------------------------------------------------------------

def test_receiving_stock_adds_a_movement_shown_with_who_did_it(app, auth, client):
    with app_session(app):
        item_id = add_item("CHG-20W", "Charger 20 W", on_hand=1)
    clerk_id = auth.login(Role.FRONT_DESK)
    with app_session(app) as session:
        clerk_name = session.get(StaffUser, clerk_id).full_name
    token = csrf_token(client, f"/catalogue/{item_id}")
    response = client.post(f"/catalogue/{item_id}/receive", data={"csrf_token": token, "quantity": "6",
                                                                   "note": "Invoice 42"})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "6 × Charger 20 W received; 7 in stock." in html
    assert re.search(r'id="on-hand">7<', html)
    newest = re.search(r"<tbody>\s*<tr>(.*?)</tr>", html.split('id="movements"')[1], re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", newest, re.S)]
    assert cells[1:] == ["Received", "+6", "Invoice 42", "", clerk_name]


@pytest.mark.parametrize(("quantity", "message"), [("0", "Number must be between 1 and 100000."),
                                                   ("many", "Not a valid integer value.")])
def test_a_refused_receipt_is_422_with_the_error_and_the_note_kept(app, client, manager, quantity, message):
    with app_session(app):
        item_id = add_item("CHG-20W", "Charger 20 W")
    token = csrf_token(client, f"/catalogue/{item_id}")
    response = client.post(f"/catalogue/{item_id}/receive", data={"csrf_token": token, "quantity": quantity,
                                                                   "note": "Invoice 42"})
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert page.errors["quantity"][0] == message
    assert page.values["note"] == "Invoice 42"


def test_an_adjustment_needs_a_reason_and_cannot_take_stock_below_zero(app, client, manager):
    with app_session(app):
        item_id = add_item("BAT-11", "Battery iPhone 11", on_hand=2)
    token = csrf_token(client, f"/catalogue/{item_id}")
    response = client.post(f"/catalogue/{item_id}/adjust", data={"csrf_token": token, "quantity": "-1", "reason": ""})
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert page.errors == {"reason": ["Say why the stock is adjusted."]}
    assert page.values["quantity"] == "-1"

    response = client.post(f"/catalogue/{item_id}/adjust",
                           data={"csrf_token": token, "quantity": "-3", "reason": "Broken"})
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert page.errors == {"quantity": ["Only 2 of Battery iPhone 11 in stock."]}
    assert page.values["reason"] == "Broken"

    assert client.post(f"/catalogue/{item_id}/adjust",
                       data={"csrf_token": token, "quantity": "-2", "reason": "Broken"}).status_code == 302
    with app_session(app) as session:
        assert session.get(CatalogueItem, item_id).on_hand == movements_sum(session, item_id) == 0


# --- categories -------------------------------------------------------------------------------------

def test_a_manager_adds_and_renames_categories(app, client, manager):
    token = csrf_token(client, "/catalogue/categories")
    response = client.post("/catalogue/categories", data={"csrf_token": token, "name": "Gift cards"})
    assert response.status_code == 302
    with app_session(app) as session:
        category = session.scalar(select(ItemCategory).where(ItemCategory.code == "gift_cards"))
        category_id = category.id
    response = client.post("/catalogue/categories", data={"csrf_token": token, "name": "gift CARDS"})
    assert response.status_code == 422
    assert FormPage(response.get_data(as_text=True)).errors == {"name": ["There is a category “Gift cards” already."]}

    assert FormPage(client.get(f"/catalogue/categories/{category_id}/edit").get_data(as_text=True)).values[
        "name"] == "Gift cards"
    response = client.post(f"/catalogue/categories/{category_id}/edit", data={"csrf_token": token, "name": "Services"})
    assert response.status_code == 422
    assert FormPage(response.get_data(as_text=True)).values["name"] == "Services"
    assert client.post(f"/catalogue/categories/{category_id}/edit",
                       data={"csrf_token": token, "name": "Gift vouchers"}).status_code == 302
    html = client.get("/catalogue/categories").get_data(as_text=True)
    assert "Gift vouchers" in html and "<code>gift_cards</code>" in html


# --- parts on a repair order ------------------------------------------------------------------------

@pytest.fixture
def order_id(app):
    with app_session(app):
        return factories.order().id


def add_line(client, order_id, **fields):
    token = csrf_token(client, f"/orders/{order_id}")
    data = {"csrf_token": token, "kind": "part", "sku": "", "description": "", "quantity": "1", "price": ""}
    data.update(fields)
    return client.post(f"/orders/{order_id}/lines", data=data)


def test_a_part_line_by_sku_takes_name_price_and_stock_and_removing_it_puts_it_back(app, auth, client, order_id):
    with app_session(app):
        item_id = add_item("SCR-IP13", "Screen iPhone 13", price_minor=450000, on_hand=3, category="spare_part")
    auth.login(Role.TECHNICIAN)
    assert add_line(client, order_id, sku=" scr-ip13 ", quantity="2").status_code == 302
    with app_session(app) as session:
        line = session.scalar(select(RepairOrderLine))
        assert (line.description, line.unit_price_minor, line.quantity, line.item_id) == (
            "Screen iPhone 13", 450000, 2, item_id)
        assert session.get(CatalogueItem, item_id).on_hand == 1
        line_id = line.id
    html = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert f'<a href="/catalogue/{item_id}">Screen iPhone 13</a>' in html
    token = csrf_token(client, f"/orders/{order_id}")
    assert client.post(f"/orders/{order_id}/lines/{line_id}/delete", data={"csrf_token": token}).status_code == 302
    with app_session(app) as session:
        assert session.get(CatalogueItem, item_id).on_hand == movements_sum(session, item_id) == 3
        returned = session.scalar(select(StockMovement).where(StockMovement.kind == "returned"))
        assert returned.created_by_id is not None


@pytest.mark.parametrize(("fields", "errors"), [
    ({"sku": "NOPE-1"}, {"sku": ["No active catalogue item has this SKU."]}),
    ({"sku": "OLD-1"}, {"sku": ["No active catalogue item has this SKU."]}),
    ({"sku": "SCR-IP13", "quantity": "4"}, {"quantity": ["Only 3 of Screen iPhone 13 in stock."]}),
    ({"sku": "SCR-IP13", "kind": "labour"}, {"kind": ["An item from the catalogue is a part: choose Part."]}),
    ({"sku": "", "description": "", "price": ""}, {"description": ["This field is required."],
                                                    "price": ["This field is required."]}),
])
def test_a_refused_catalogue_line_is_422_at_the_field_and_takes_nothing(app, auth, client, order_id, fields, errors):
    with app_session(app):
        item_id = add_item("SCR-IP13", "Screen iPhone 13", price_minor=450000, on_hand=3, category="spare_part")
        add_item("OLD-1", "Discontinued screen", on_hand=3, active=False)
    auth.login(Role.TECHNICIAN)
    response = add_line(client, order_id, **{"description": "Typed by the technician", **fields})
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert page.errors == errors
    assert page.values["sku"] == fields["sku"]
    with app_session(app) as session:
        assert session.scalar(select(RepairOrderLine)) is None
        assert session.get(CatalogueItem, item_id).on_hand == 3


def test_a_free_text_part_line_still_works_without_a_sku(app, auth, client, order_id):
    auth.login(Role.TECHNICIAN)
    assert add_line(client, order_id, description="Glue", price="10").status_code == 302
    with app_session(app) as session:
        line = session.scalar(select(RepairOrderLine))
        assert (line.description, line.unit_price_minor, line.item_id) == ("Glue", 1000, None)
        assert session.scalar(select(StockMovement)) is None


# --- statement counts -------------------------------------------------------------------------------

def statements_for(client, count_queries, path) -> int:
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200, path
    return counter.count


def test_list_pages_run_a_fixed_number_of_statements(app, client, manager, count_queries):
    with app_session(app) as session:
        few_category = catalogue.create_category(session, "Few").id
        many_category = catalogue.create_category(session, "Many").id
        add_item("FEW-1", "Few item", on_hand=1, reorder_level=2)
    few = [statements_for(client, count_queries, path) for path in ("/catalogue", "/catalogue/low-stock")]
    with app_session(app) as session:
        for n in range(15):
            item = catalogue.create_item(session, catalogue.ItemData(
                sku=f"MANY-{n}", name=f"Many {n}", category_id=many_category if n % 2 else few_category,
                price_minor=100, reorder_level=3))
            catalogue.receive_stock(session, item, 1, actor=None)
    many = [statements_for(client, count_queries, path) for path in ("/catalogue", "/catalogue/low-stock")]
    assert many == few
    assert max(few) <= 4
    assert "Many 14" in client.get("/catalogue/low-stock").get_data(as_text=True)


def test_the_item_page_runs_a_fixed_number_of_statements_whatever_its_history(app, client, manager, count_queries):
    with app_session(app) as session:
        quiet = add_item("QUIET-1", "Quiet item", on_hand=1)
        busy = add_item("BUSY-1", "Busy item", on_hand=50)
        item = session.get(CatalogueItem, busy)
        for n in range(12):
            order = factories.order()
            order_service.add_line(session, order, kind="part", quantity=1, actor=staff_member(), item=item)
            catalogue.adjust_stock(session, item, 1, actor=staff_member(Role.MANAGER), reason=f"count {n}")
    few = statements_for(client, count_queries, f"/catalogue/{quiet}")
    assert statements_for(client, count_queries, f"/catalogue/{busy}") == few
    assert few <= 4
    html = client.get(f"/catalogue/{busy}").get_data(as_text=True)
    assert html.count("Used in a repair") == 12 and "count 11" in html
