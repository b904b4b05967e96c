"""The demo data in each of the shop's languages: names, catalogue, notes, tiers and categories in that language,
staff and customers set to speak it, phone numbers of the shop's region."""

import phonenumbers
import pytest
from sqlalchemy import func, select

from crm import demo_texts as texts
from crm.auth.models import StaffUser
from crm.catalogue.models import CatalogueItem, ItemCategory, StockMovement
from crm.customers.models import Customer
from crm.demo import CATALOGUE, DEMO_LOGINS, customer_language, demo_phone, load_demo
from crm.extensions import db
from crm.loyalty.models import CouponTemplate, Tier
from crm.orders.models import RepairOrder, RepairOrderLine

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
ENGLISH = set(texts.PROBLEMS["en"]) | set(texts.WORDS["en"].values()) | {name for _, name, *_ in CATALOGUE}


def test_every_language_has_every_text():
    skus = {sku for sku, *_ in CATALOGUE}
    for language in texts.LANGUAGES:
        assert len(texts.FIRST[language]) >= 15 and len(texts.LAST[language]) >= 15
        assert len(texts.PROBLEMS[language]) == len(texts.PROBLEMS["en"])
        assert texts.WORDS[language].keys() == texts.WORDS["en"].keys()
        assert "{model}" in texts.WORDS[language]["part"]
        assert texts.STAFF[language].keys() == {username for username, _, _ in DEMO_LOGINS}
        assert len(set(texts.COUPONS[language])) == 2
        if language != "en":
            assert texts.ITEM_NAMES[language].keys() == skus
            assert texts.CATEGORIES[language].keys() == {"accessory", "spare_part", "service"}
            assert texts.TIERS[language].keys() == {1, 2, 3}


def test_translated_part_names_keep_the_model_so_parts_still_fit_devices():
    """load_demo fits a part to a device by its model name in the item's name."""
    for language, names in texts.ITEM_NAMES.items():
        for sku, english, *_ in CATALOGUE:
            model = english.replace("Screen ", "").replace("Battery ", "").split(" (")[0]
            if sku.startswith(("SCR-", "BAT-")):
                assert model in names[sku], (language, sku)


@pytest.mark.parametrize("region", ["UA", "MD", "RO"])
def test_demo_phones_are_valid_mobile_numbers_of_the_region(region):
    phones = [demo_phone(region, i) for i in (0, 1, 199, 2000)]
    assert len(set(phones)) == 4
    for phone in phones:
        number = phonenumbers.parse(phone)
        assert phonenumbers.is_valid_number(number)
        assert phonenumbers.region_code_for_number(number) == region
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE


def test_customer_languages():
    assert {customer_language("en", i) for i in range(10)} == {None}
    assert {customer_language("ru", i) for i in range(10)} == {"ru"}
    assert [customer_language("uk", i) for i in range(5)] == ["uk", "uk", "uk", "uk", "ru"]
    assert {customer_language("ro", i) for i in range(10)} == {"ro", "ru"}


def test_an_unknown_language_is_refused(app_ctx):
    with pytest.raises(ValueError):
        load_demo(db.session, customers=5, seed=1, region="UA", number_prefix="R-", language="de")


@pytest.mark.parametrize("language", ["uk", "ru", "ro"])
def test_the_demo_in_a_language_speaks_it_everywhere(app_ctx, language):
    region = {"uk": "UA", "ru": "UA", "ro": "MD"}[language]
    assert load_demo(db.session, customers=40, seed=7, region=region, number_prefix="R-", language=language)
    db.session.flush()
    session = db.session
    assert {s.full_name for s in session.scalars(select(StaffUser))} == set(texts.STAFF[language].values())
    assert {s.language for s in session.scalars(select(StaffUser))} == {language}
    customers = session.scalars(select(Customer)).all()
    first, last = set(texts.FIRST[language]), set(texts.LAST[language])
    assert all(c.name.split(" ", 1)[0] in first and c.name.split(" ", 1)[1] in last for c in customers)
    assert {c.language for c in customers} <= {language, texts.SECOND_LANGUAGE.get(language, language)}
    assert all(phonenumbers.region_code_for_number(phonenumbers.parse(c.phone)) == region for c in customers)
    assert set(session.scalars(select(CatalogueItem.name))) == set(texts.ITEM_NAMES[language].values())
    assert set(session.scalars(select(ItemCategory.name))) == set(texts.CATEGORIES[language].values())
    assert set(session.scalars(select(Tier.name))) == set(texts.TIERS[language].values())
    assert set(session.scalars(select(CouponTemplate.name))) == set(texts.COUPONS[language])
    problems = set(session.scalars(select(RepairOrder.problem)))
    assert problems and problems <= set(texts.PROBLEMS[language])
    typed = (set(session.scalars(select(RepairOrder.condition)))
             | set(session.scalars(select(RepairOrder.accessories)))
             | set(session.scalars(select(RepairOrderLine.description)))
             | set(session.scalars(select(StockMovement.reason))))
    assert texts.WORDS[language]["opening_stock"] in typed
    assert not typed & ENGLISH, typed & ENGLISH
    assert session.scalar(select(func.count()).select_from(RepairOrder)) > 0


def test_the_cli_loads_the_demo_in_the_shop_language_unless_told(app):
    runner = app.test_cli_runner()
    app.config["BABEL_DEFAULT_LOCALE"] = "ro"
    try:
        result = runner.invoke(args=["crm", "demo", "--customers", "10"])
    finally:
        app.config["BABEL_DEFAULT_LOCALE"] = "en"
    assert result.exit_code == 0, result.output
    assert "Its language: ro." in result.output
    with app.app_context():
        assert set(db.session.scalars(select(Tier.name))) == set(texts.TIERS["ro"].values())
        db.session.remove()


def test_the_cli_refuses_a_language_it_has_no_demo_for(app):
    result = app.test_cli_runner().invoke(args=["crm", "demo", "--customers", "10", "--language", "de"])
    assert result.exit_code == 2
    assert "de" in result.output
