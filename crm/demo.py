"""Demo data for a first look: staff for each role, customers, orders in every status, and the catalogue, in one
of the shop's languages (the words are in crm.demo_texts)."""

import random
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm import demo_texts as texts
from crm.auth import service as auth_service
from crm.auth.models import Role, StaffUser
from crm.catalogue import service as catalogue
from crm.catalogue.models import CatalogueItem, ItemCategory
from crm.customers import service as customer_service
from crm.database import utcnow
from crm.loyalty import accounts, program
from crm.loyalty.models import Coupon, CouponTemplate, Tier
from crm.orders import service as order_service
from crm.orders.device import imei_is_valid
from crm.orders.status import CHECKOUT_ONLY, Status
from crm.sales import checkout, pricing
from crm.sales import loyalty as sale_loyalty
from crm.sales.bill import current_bill

DEMO_LOGINS = [
    ("manager", "manager-demo-pass", Role.MANAGER.value),
    ("desk", "desk-demo-pass", Role.FRONT_DESK.value),
    ("tech", "tech-demo-pass", Role.TECHNICIAN.value),
]
DEVICES = [("phone", "Apple", "iPhone 13"), ("phone", "Samsung", "Galaxy A54"), ("phone", "Xiaomi", "Redmi Note 12"),
           ("laptop", "Lenovo", "ThinkPad T14"), ("laptop", "Apple", "MacBook Air M2"), ("tablet", "Apple", "iPad 9"),
           ("watch", "Samsung", "Galaxy Watch 5"), ("console", "Sony", "PlayStation 5")]
# Paths through the workflow, so demo orders carry a believable history.
PATHS = {
    Status.RECEIVED: [],
    Status.DIAGNOSING: [Status.DIAGNOSING],
    Status.AWAITING_APPROVAL: [Status.DIAGNOSING, Status.AWAITING_APPROVAL],
    Status.AWAITING_PARTS: [Status.DIAGNOSING, Status.AWAITING_PARTS],
    Status.IN_REPAIR: [Status.DIAGNOSING, Status.IN_REPAIR],
    Status.READY: [Status.DIAGNOSING, Status.IN_REPAIR, Status.READY],
    Status.PICKED_UP: [Status.DIAGNOSING, Status.IN_REPAIR, Status.READY, Status.PICKED_UP],
    Status.CANCELLED: [Status.DIAGNOSING, Status.CANCELLED],
}


# (SKU, name, category code, price, cost, units received, reorder level); None received = not stock-tracked.
CATALOGUE = [
    ("CASE-IP13-SIL", "Silicone case iPhone 13", "accessory", 35000, 12000, 12, 3),
    ("CASE-IP15-SIL", "Silicone case iPhone 15", "accessory", 39000, 14000, 10, 3),
    ("CASE-A54-BOOK", "Book case Galaxy A54", "accessory", 42000, 15000, 6, 2),
    ("CASE-RN12-TPU", "Clear TPU case Redmi Note 12", "accessory", 19000, 5000, 2, 3),
    ("GLASS-IP13", "Tempered glass iPhone 13", "accessory", 25000, 4000, 30, 10),
    ("GLASS-IP15", "Tempered glass iPhone 15", "accessory", 27000, 4500, 25, 10),
    ("GLASS-A54", "Tempered glass Galaxy A54", "accessory", 22000, 3500, 4, 8),
    ("GLASS-RN12", "Tempered glass Redmi Note 12", "accessory", 20000, 3000, 15, 5),
    ("CHG-20W-USBC", "Charger 20 W USB-C", "accessory", 79900, 35000, 8, 3),
    ("CHG-65W-GAN", "Charger 65 W GaN, 2 ports", "accessory", 149900, 80000, 3, 2),
    ("CBL-USBC-1M", "Cable USB-C to USB-C, 1 m", "accessory", 29900, 9000, 20, 5),
    ("CBL-LTN-1M", "Cable USB-C to Lightning, 1 m", "accessory", 34900, 11000, 1, 5),
    ("CBL-MICRO-1M", "Cable USB-A to micro-USB, 1 m", "accessory", 14900, 3000, 10, 3),
    ("PWR-10K", "Power bank 10000 mAh", "accessory", 99900, 50000, 5, 2),
    ("HOLD-CAR-MAG", "Magnetic car holder", "accessory", 45000, 18000, 4, 1),
    ("SCR-IP13-OLED", "Screen iPhone 13 (OLED)", "spare_part", 450000, 280000, 4, 2),
    ("SCR-IP11-LCD", "Screen iPhone 11 (LCD)", "spare_part", 250000, 140000, 1, 2),
    ("SCR-A54-AMO", "Screen Galaxy A54 (AMOLED)", "spare_part", 380000, 230000, 3, 1),
    ("SCR-RN12-ORIG", "Screen Redmi Note 12", "spare_part", 210000, 120000, 5, 2),
    ("BAT-IP13", "Battery iPhone 13", "spare_part", 180000, 80000, 6, 2),
    ("BAT-IP11", "Battery iPhone 11", "spare_part", 150000, 65000, 0, 2),
    ("BAT-A54", "Battery Galaxy A54", "spare_part", 140000, 60000, 4, 1),
    ("PORT-USBC-FLEX", "Charging port flex USB-C", "spare_part", 60000, 20000, 10, 3),
    ("SVC-GLASS-FIT", "Screen protector installation", "service", 15000, 0, None, 0),
    ("SVC-CLEAN", "Cleaning after liquid damage", "service", 40000, 0, None, 0),
]


def load_catalogue(session: Session, *, actor: StaffUser | None, language: str = "en") -> list[CatalogueItem]:
    """The demo catalogue with its stock received; a few items are at or below their reorder level."""
    category_ids = dict(session.execute(select(ItemCategory.code, ItemCategory.id)).tuples().all())
    names = texts.ITEM_NAMES.get(language, {})
    items = []
    for sku, name, code, price, cost, received, reorder in CATALOGUE:
        item = catalogue.create_item(session, catalogue.ItemData(
            sku=sku, name=names.get(sku, name), category_id=category_ids[code], price_minor=price, cost_minor=cost,
            stock_tracked=received is not None, reorder_level=reorder))
        if received:
            catalogue.receive_stock(session, item, received, actor=actor, note=texts.WORDS[language]["opening_stock"])
        items.append(item)
    return items


def with_check_digit(first14: str) -> str:
    for digit in "0123456789":
        if imei_is_valid(first14 + digit):
            return first14 + digit
    raise AssertionError("unreachable")


def demo_phone(region: str, i: int) -> str:
    """The i-th demo customer's phone: E.164, a mobile series of the shop's region (Ukrainian elsewhere)."""
    prefix, digits = texts.PHONE_SERIES.get(region, texts.PHONE_SERIES["UA"])
    return f"{prefix}{10 ** (digits - 1) + i * 37:0{digits}d}"


def customer_language(language: str, i: int) -> str | None:
    """The language the i-th customer is written to in: the demo's, one in five in the second language of
    the shop's country; None (the shop's default) for an English demo."""
    if language == "en":
        return None
    second = texts.SECOND_LANGUAGE.get(language)
    return second if second and i % 5 == 4 else language


def load_demo(session: Session, *, customers: int, seed: int, region: str, number_prefix: str,
              sale_prefix: str = "S-", language: str = "en") -> bool:
    """Load the demo set in ``language`` (one of demo_texts.LANGUAGES) unless any staff account exists; True if
    it was loaded."""
    if language not in texts.LANGUAGES:
        raise ValueError(f"no demo texts in {language!r}")
    if session.scalar(select(func.count()).select_from(StaffUser)):
        return False
    rng = random.Random(seed)
    words = texts.WORDS[language]
    staff = {role: auth_service.create_staff(session, username=u, full_name=texts.STAFF[language][u], role=role,
                                             password=p, language=None if language == "en" else language)
             for u, p, role in DEMO_LOGINS}
    technician = staff[Role.TECHNICIAN.value]
    manager = staff[Role.MANAGER.value]
    now = utcnow()
    _shop_words(session, language, manager=manager, now=now)
    people = []
    for i in range(customers):
        data = customer_service.CustomerData(
            name=f"{rng.choice(texts.FIRST[language])} {rng.choice(texts.LAST[language])}",
            phone=demo_phone(region, i), language=customer_language(language, i),
            email=f"customer{i}@example.com" if i % 3 else None,
            birthday=date(1970 + i % 35, 1 + i % 12, 1 + i % 28) if i % 2 else None,
            marketing_consent=i % 4 != 0,
        )
        people.append(customer_service.create_customer(session, data, region=region,
                                                       now=now - timedelta(days=400 - i)))
    _loyalty_setup(session, people, manager=manager, region=region, now=now, language=language)
    items = load_catalogue(session, actor=manager, language=language)
    spare_parts = [item for item in items if item.sku.startswith(("SCR-", "BAT-", "PORT-"))]
    statuses = list(Status)
    for i, customer in enumerate(people[: max(len(statuses) * 4, customers // 2)]):
        target = statuses[i % len(statuses)]
        kind, brand, model = rng.choice(DEVICES)
        data = order_service.OrderData(
            device_type=kind, brand=brand, model=model, problem=rng.choice(texts.PROBLEMS[language]),
            imei=with_check_digit(f"35{rng.randrange(10**12):012d}") if kind == "phone" else "",
            serial_number=f"SN{rng.randrange(10**8):08d}", condition=words["condition"],
            accessories=words["accessories"] if i % 2 else "",
            estimate_minor=rng.choice([50000, 120000, 250000, 400000]),
            due_date=(now + timedelta(days=rng.randint(-3, 7))).date(), priority=rng.choice([0, 0, 0, 1, 2]),
            technician_id=technician.id if i % 3 else None,
        )
        created = now - timedelta(days=len(statuses) - i % len(statuses), hours=i)
        order = order_service.create_order(session, customer, data, created_by=staff[Role.FRONT_DESK.value],
                                           number_prefix=number_prefix, now=created)
        if target in (Status.AWAITING_APPROVAL, Status.IN_REPAIR, Status.READY, Status.PICKED_UP):
            order_service.add_line(session, order, kind="labour", description=words["work"], quantity=1,
                                   unit_price_minor=60000, actor=technician)
            # A part for this model from the catalogue (and from stock) while there is plenty of it.
            fitting = [p for p in spare_parts if model in p.name and p.on_hand > p.reorder_level]
            if fitting:
                order_service.add_line(session, order, kind="part", quantity=1, actor=technician,
                                       item=rng.choice(fitting))
            else:
                order_service.add_line(session, order, kind="part", description=words["part"].format(model=model),
                                       quantity=1, unit_price_minor=90000, actor=technician)
        for step, status in enumerate(PATHS[target], start=1):
            when = created + timedelta(hours=step)
            if status in CHECKOUT_ONLY:
                _pay_at_pickup(session, order, items, desk=staff[Role.FRONT_DESK.value], rng=rng, now=when,
                               sale_prefix=sale_prefix)
            else:
                order_service.change_status(session, order, status, actor=manager, now=when)
    _walk_in_sales(session, items, people, desk=staff[Role.FRONT_DESK.value], rng=rng, now=now,
                   sale_prefix=sale_prefix)
    return True


def _shop_words(session: Session, language: str, *, manager: StaffUser, now: datetime) -> None:
    """Name the item categories and the tiers (rows the migrations create in English) in the demo's language."""
    categories = texts.CATEGORIES.get(language, {})
    for category in session.scalars(select(ItemCategory).where(ItemCategory.code.in_(categories))):
        catalogue.rename_category(session, category, categories[category.code])
    tiers = texts.TIERS.get(language, {})
    for tier in session.scalars(select(Tier).where(Tier.rank.in_(tiers))):
        program.save_tier(session, tier, {"name": tiers[tier.rank]}, actor=manager, now=now)


def _loyalty_setup(session: Session, people, *, manager: StaffUser, region: str, now: datetime,
                   language: str) -> None:
    """A personal 15% accessory coupon after every paid repair, a promo code, and a referral."""
    repair_name, promo_name = texts.COUPONS[language]
    after_repair = CouponTemplate(name=repair_name, kind="percent", value=1500,
                                  categories="accessory", min_bill_minor=0, validity_days=30, active=True)
    promo = CouponTemplate(name=promo_name, kind="percent", value=1000, categories="accessory",
                           min_bill_minor=20000, validity_days=30, active=True)
    session.add_all([after_repair, promo])
    session.flush()
    program.update_program(session, {"repair_coupon_template_id": after_repair.id}, actor=manager, now=now)
    session.add(Coupon(code="WELCOME10", kind="promo", template_id=promo.id, usage_limit=100, used_count=0,
                       valid_from=now - timedelta(days=30), valid_until=now + timedelta(days=60),
                       created_by_id=manager.id, created_at=now))
    if len(people) > 3:
        accounts.enrol(session, people[1], actor=manager, now=now - timedelta(days=390))
        accounts.set_referrer(session, people[3], people[1].phone, region=region, actor=manager,
                              now=now - timedelta(days=390))
    session.flush()


def _pay(session: Session, sale, desk: StaffUser, rng: random.Random, now: datetime, sale_prefix: str) -> None:
    """Pay a bill the way the desk does: cash with change, card, or both; a member spends the most
    points allowed one time in three."""
    plain = current_bill(session, sale)
    wanted = sale_loyalty.LoyaltyRequest(use_max=rng.random() < 0.33)
    plan = sale_loyalty.plan(session, sale.customer_id, [line.pricing_input() for line in plain.lines], wanted,
                             now=now, locked=False)
    loyalty = sale_loyalty.LoyaltyRequest(points=plan.points)
    total = current_bill(session, sale, plan.adjustments).quote.total_minor
    style = rng.choice(["cash", "card", "split"])
    if style == "cash":
        tenders = [pricing.Tender("cash", -(-total // 10000) * 10000)]  # rounded up to 100: change due
    elif style == "card":
        tenders = [pricing.Tender("card", total)]
    else:
        tenders = [pricing.Tender("cash", total // 2), pricing.Tender("card", total - total // 2)]
    checkout.checkout(session, sale.id, key=secrets.token_urlsafe(24), tenders=tenders, expected_total_minor=total,
                      actor=desk, payment_methods=["cash", "card"], number_prefix=sale_prefix, loyalty=loyalty,
                      now=now)


def _pay_at_pickup(session: Session, order, items, *, desk: StaffUser, rng: random.Random, now: datetime,
                   sale_prefix: str) -> None:
    sale = checkout.sale_for_repair(session, order.id, actor=desk, now=now)
    accessories = [item for item in items if item.sku.startswith(("CASE-", "GLASS-", "CHG-")) and item.on_hand > 1]
    if accessories and rng.random() < 0.5:
        checkout.add_item(session, sale, rng.choice(accessories), 1)
    _pay(session, sale, desk, rng, now, sale_prefix)


def _walk_in_sales(session: Session, items, people, *, desk: StaffUser, rng: random.Random, now: datetime,
                   sale_prefix: str) -> None:
    """A few accessory sales over the last days, some to known customers, some to walk-ins."""
    accessories = [item for item in items if item.stock_tracked and item.on_hand > item.reorder_level + 2]
    for n in range(12):
        accessories = [item for item in accessories if item.on_hand > item.reorder_level + 1]
        if len(accessories) < 2:
            return
        sale = checkout.open_sale(session, actor=desk, customer=rng.choice(people) if n % 2 else None,
                                  now=now - timedelta(days=n % 4, hours=n))
        for item in rng.sample(accessories, min(2, len(accessories))):
            checkout.add_item(session, sale, item, 1, discount_percent=1000 if n % 3 == 0 else None)
        _pay(session, sale, desk, rng, now - timedelta(days=n % 4, hours=n), sale_prefix)
