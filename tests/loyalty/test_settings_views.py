"""The manager's loyalty settings through Flask's test client: every save is audited, bad input comes
back next to its field with what was typed, tiers and coupons keep unique names."""

import pytest
from sqlalchemy import select

from crm.auth.models import Role
from crm.extensions import db
from crm.loyalty.models import AuditEntry, Coupon, CouponTemplate, EarnRate, Program, Tier
from tests.conftest import csrf_token
from tests.helpers import FormPage

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
def manager(auth):
    return auth.login(Role.MANAGER)


def settings_form(client) -> dict:
    values = FormPage(client.get("/loyalty/settings").get_data(as_text=True)).values
    return {k: v for k, v in values.items() if not k.startswith("rate_")}


def test_saving_the_program_changes_it_and_audits_each_changed_field(app, client, manager):
    form = settings_form(client)
    form.update({"redeem_cap": "25", "welcome_bonus": "75", "point_value": "0.50",
                 "redeem_categories": ["repair_labour", "accessory"]})
    response = client.post("/loyalty/settings", data=form)
    assert response.status_code == 302
    with app.app_context():
        program = db.session.get(Program, 1)
        assert (program.redeem_cap_bp, program.welcome_bonus, program.point_value_minor) == (2500, 75, 50)
        assert program.redeem_categories == "accessory,repair_labour"
        audited = {e.field: (e.old_value, e.new_value, e.actor_id) for e in db.session.scalars(select(AuditEntry))}
        assert audited["redeem_cap_bp"] == ("3000", "2500", manager)
        assert audited["welcome_bonus"] == ("50", "75", manager)
    assert "redeem_cap_bp" in client.get("/loyalty/audit").get_data(as_text=True)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("redeem_cap", "150", "A percentage is between 0 and 100."),
    ("redeem_cap", "abc", "Write a percentage like 5 or 2.5."),
    ("welcome_bonus", "-5", "Number must be between"),
    ("point_value", "0", "A point must be worth something."),
])
def test_bad_settings_come_back_next_to_the_field_with_what_was_typed(app, client, manager, field, value, message):
    form = {**settings_form(client), field: value}
    response = client.post("/loyalty/settings", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page and f'value="{value}"' in page
    with app.app_context():
        program = db.session.get(Program, 1)  # nothing saved: the defaults a new shop starts with
        assert (program.redeem_cap_bp, program.welcome_bonus, program.point_value_minor) == (3000, 50, 100)


def test_earn_rates_are_saved_as_basis_points_and_audited(app, client, manager):
    values = FormPage(client.get("/loyalty/settings").get_data(as_text=True)).values
    form = {k: v for k, v in values.items() if k.startswith("rate_")}
    form.update(csrf_token=values["csrf_token"], rate_accessory="2.5")
    assert client.post("/loyalty/settings/rates", data=form).status_code == 302
    with app.app_context():
        assert db.session.get(EarnRate, "accessory").rate_bp == 250
        subject = db.session.scalar(select(AuditEntry.subject).where(AuditEntry.field == "rate_bp"))
        assert subject == "earn_rate:accessory"


def test_a_tier_is_created_and_a_duplicate_name_or_rank_is_refused(app, client, manager):
    token = csrf_token(client, "/loyalty/tiers/new")
    form = {"csrf_token": token, "name": "Platinum", "rank": "4", "min_spend": "50000", "min_repairs": "",
            "earn_multiplier": "200", "accessory_discount": "15", "queue_priority": "y"}
    assert client.post("/loyalty/tiers/new", data=form).status_code == 302
    with app.app_context():
        tier = db.session.scalar(select(Tier).where(Tier.name == "Platinum"))
        assert (tier.min_spend_minor, tier.min_repairs, tier.accessory_discount_bp, tier.queue_priority) == (
            5_000_000, None, 1500, True)
    response = client.post("/loyalty/tiers/new", data={**form, "name": "Gold", "rank": "4"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Another tier has this name" in page and "Another tier has this rank" in page
    assert "Platinum" in client.get("/loyalty/tiers").get_data(as_text=True)


def test_coupon_templates_and_promo_codes_are_managed_and_codes_stay_unique(app, client, manager):
    token = csrf_token(client, "/loyalty/coupons/templates/new")
    template = {"csrf_token": token, "name": "Spring 10", "kind": "percent", "percent": "10", "amount": "",
                "categories": ["accessory"], "min_bill": "100", "validity_days": "30", "active": "y"}
    assert client.post("/loyalty/coupons/templates/new", data=template).status_code == 302
    response = client.post("/loyalty/coupons/templates/new", data=template)
    assert response.status_code == 422 and "Another coupon template has this name." in response.get_data(as_text=True)
    with app.app_context():
        template_id = db.session.scalar(select(CouponTemplate.id).where(CouponTemplate.name == "Spring 10"))
    promo = {"csrf_token": token, "template_id": str(template_id), "code": "spring-10", "usage_limit": "50",
             "valid_from": "2026-03-01", "valid_until": "2026-03-31"}
    assert client.post("/loyalty/coupons/promo/new", data=promo).status_code == 302
    response = client.post("/loyalty/coupons/promo/new", data=promo)
    assert response.status_code == 422 and "This code is already in use." in response.get_data(as_text=True)
    with app.app_context():
        coupon = db.session.scalar(select(Coupon).where(Coupon.code == "SPRING10"))  # as the desk looks it up
        assert coupon.usage_limit == 50 and coupon.valid_until > coupon.valid_from
    page = client.get("/loyalty/coupons").get_data(as_text=True)
    assert "SPRING10" in page and "Spring 10" in page


@pytest.mark.parametrize("code", ["BLACK-FRIDAY-2026-XY", "SALE_10", "AB", "ŽIVO10"])
def test_a_promo_code_the_desk_could_not_redeem_is_refused_at_its_field(app, client, manager, code):
    with app.app_context():
        template = CouponTemplate(name="Codes", kind="percent", value=1000, categories="accessory", min_bill_minor=0,
                                  validity_days=30, active=True)
        db.session.add(template)
        db.session.commit()
        template_id = template.id
    response = client.post("/loyalty/coupons/promo/new", data={
        "csrf_token": csrf_token(client, "/loyalty/coupons/promo/new"), "template_id": str(template_id),
        "code": code, "usage_limit": "5", "valid_from": "2026-03-01", "valid_until": "2026-03-31"})
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert page.errors["code"] == ["A code is 3 to 16 letters (A-Z) and digits; dashes and spaces between them "
                                   "are left out."]
    assert page.values["code"] == code
    with app.app_context():
        assert db.session.scalar(select(Coupon.id)) is None


@pytest.mark.parametrize(("field", "day"), [("valid_from", "0001-01-01"), ("valid_until", "9999-12-31"),
                                            ("valid_from", "1999-12-31")])
def test_a_promo_date_beyond_what_the_shop_can_mean_is_refused_at_its_field(app, client, manager, field, day):
    with app.app_context():
        template = CouponTemplate(name="Far dates", kind="percent", value=1000, categories="accessory",
                                  min_bill_minor=0, validity_days=30, active=True)
        db.session.add(template)
        db.session.commit()
        template_id = template.id
    promo = {"csrf_token": csrf_token(client, "/loyalty/coupons/promo/new"), "template_id": str(template_id),
             "code": "FAR", "usage_limit": "5", "valid_from": "2026-03-01", "valid_until": "2026-03-31", field: day}
    response = client.post("/loyalty/coupons/promo/new", data=promo)
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert page.errors[field] == ["Choose a date from 2000 to ten years from today."]
    assert page.values[field] == day
    with app.app_context():
        assert db.session.scalar(select(Coupon.id)) is None


@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.FRONT_DESK])
def test_only_the_manager_sees_loyalty_settings(client, auth, role):
    auth.login(role)
    for url in ("/loyalty/settings", "/loyalty/tiers", "/loyalty/coupons", "/loyalty/audit"):
        assert client.get(url).status_code == 403
