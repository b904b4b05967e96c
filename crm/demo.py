"""Demo data for a first look: staff for each role, customers, and orders in every status."""

import random
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.auth import service as auth_service
from crm.auth.models import Role, StaffUser
from crm.customers import service as customer_service
from crm.database import utcnow
from crm.orders import service as order_service
from crm.orders.device import imei_is_valid
from crm.orders.status import CHECKOUT_ONLY, Status

DEMO_LOGINS = [
    ("manager", "manager-demo-pass", Role.MANAGER.value),
    ("desk", "desk-demo-pass", Role.FRONT_DESK.value),
    ("tech", "tech-demo-pass", Role.TECHNICIAN.value),
]
FIRST = ["Olena", "Andrii", "Iryna", "Mykola", "Oksana", "Taras", "Natalia", "Dmytro", "Sofia", "Ivan",
         "Maria", "Serhii", "Yulia", "Bogdan", "Kateryna", "Vasile", "Ana", "Ion", "Elena", "Mihai"]
LAST = ["Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk", "Popescu", "Rusu",
        "Ionescu", "Moroz", "Lysenko", "Savchenko", "Ceban", "Rudenko", "Marchenko"]
DEVICES = [("phone", "Apple", "iPhone 13"), ("phone", "Samsung", "Galaxy A54"), ("phone", "Xiaomi", "Redmi Note 12"),
           ("laptop", "Lenovo", "ThinkPad T14"), ("laptop", "Apple", "MacBook Air M2"), ("tablet", "Apple", "iPad 9"),
           ("watch", "Samsung", "Galaxy Watch 5"), ("console", "Sony", "PlayStation 5")]
PROBLEMS = ["Cracked screen", "Does not charge", "Battery drains fast", "No sound in calls", "Water damage",
            "Keyboard keys stuck", "Overheats and shuts down", "Camera is blurry"]
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


def with_check_digit(first14: str) -> str:
    for digit in "0123456789":
        if imei_is_valid(first14 + digit):
            return first14 + digit
    raise AssertionError("unreachable")


def load_demo(session: Session, *, customers: int, seed: int, region: str, number_prefix: str) -> bool:
    """Load the demo set unless any staff account exists; True if it was loaded."""
    if session.scalar(select(func.count()).select_from(StaffUser)):
        return False
    rng = random.Random(seed)
    staff = {role: auth_service.create_staff(session, username=u, full_name=f"Demo {u.title()}", role=role,
                                             password=p)
             for u, p, role in DEMO_LOGINS}
    technician = staff[Role.TECHNICIAN.value]
    manager = staff[Role.MANAGER.value]
    now = utcnow()
    people = []
    for i in range(customers):
        phone = f"+38067{1000000 + i * 37:07d}"  # E.164, valid whatever the shop's region
        data = customer_service.CustomerData(
            name=f"{rng.choice(FIRST)} {rng.choice(LAST)}", phone=phone,
            email=f"customer{i}@example.com" if i % 3 else None,
            birthday=date(1970 + i % 35, 1 + i % 12, 1 + i % 28) if i % 2 else None,
            marketing_consent=i % 4 != 0,
        )
        people.append(customer_service.create_customer(session, data, region=region,
                                                       now=now - timedelta(days=400 - i)))
    statuses = list(Status)
    for i, customer in enumerate(people[: max(len(statuses) * 4, customers // 2)]):
        target = statuses[i % len(statuses)]
        kind, brand, model = rng.choice(DEVICES)
        data = order_service.OrderData(
            device_type=kind, brand=brand, model=model, problem=rng.choice(PROBLEMS),
            imei=with_check_digit(f"35{rng.randrange(10**12):012d}") if kind == "phone" else "",
            serial_number=f"SN{rng.randrange(10**8):08d}", condition="Scratches on the back",
            accessories="Case" if i % 2 else "", estimate_minor=rng.choice([50000, 120000, 250000, 400000]),
            due_date=(now + timedelta(days=rng.randint(-3, 7))).date(), priority=rng.choice([0, 0, 0, 1, 2]),
            technician_id=technician.id if i % 3 else None,
        )
        created = now - timedelta(days=len(statuses) - i % len(statuses), hours=i)
        order = order_service.create_order(session, customer, data, created_by=staff[Role.FRONT_DESK.value],
                                           number_prefix=number_prefix, now=created)
        if target in (Status.IN_REPAIR, Status.READY, Status.PICKED_UP):
            order_service.add_line(session, order, kind="labour", description="Replacement work", quantity=1,
                                   unit_price_minor=60000, actor=technician)
            order_service.add_line(session, order, kind="part", description=f"{model} part", quantity=1,
                                   unit_price_minor=90000, actor=technician)
        for step, status in enumerate(PATHS[target], start=1):
            order_service.change_status(session, order, status, actor=manager, now=created + timedelta(hours=step),
                                        via_checkout=status in CHECKOUT_ONLY)
    return True
