"""Build a large database for the benchmark.

    python -m bench.generate --customers 100000 [--orders-per-customer 1.5] [--database-url URL] [--force]

Runs the migrations, then bulk-inserts staff, customers, repair orders (every status, with lines and
status history), the catalogue and the sales history (bench.sales) with SQLAlchemy Core executemany in
batches, and sets the number counters."""

import argparse
import random
import secrets
import sys
import time
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import phonenumbers
from flask_migrate import upgrade
from sqlalchemy import func, insert, select, text

from bench import BENCH_MANAGER, BENCH_PASSWORD, BENCH_TECHNICIAN, DEFAULT_DATABASE_URL, bench_app
from bench.loyalty import generate_loyalty
from bench.sales import generate_sales
from crm.auth.models import Role, StaffUser, new_session_token
from crm.auth.passwords import hash_password
from crm.customers.models import Customer
from crm.customers.service import build_search_text
from crm.demo import PATHS
from crm.extensions import db
from crm.numbering import NumberCounter
from crm.orders.device import imei_is_valid
from crm.orders.models import OrderStatusChange, RepairOrder, RepairOrderLine
from crm.orders.service import _search_text as order_search_text
from crm.orders.status import CLOSED_STATUSES, Status
from crm.shop_time import mmdd

BATCH = 5000
SPAN = timedelta(days=3 * 365)  # the shop's history
# Ukrainian mobile operators (Vodafone, lifecell, Kyivstar): +380 XX NNNNNNN.
OPERATOR_CODES = ("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99")
FIRST = [("Olena", "Олена"), ("Andrii", "Андрій"), ("Iryna", "Ірина"), ("Mykola", "Микола"), ("Oksana", "Оксана"),
         ("Taras", "Тарас"), ("Nataliia", "Наталія"), ("Dmytro", "Дмитро"), ("Sofiia", "Софія"), ("Ivan", "Іван"),
         ("Mariia", "Марія"), ("Serhii", "Сергій"), ("Yuliia", "Юлія"), ("Bohdan", "Богдан"),
         ("Kateryna", "Катерина"), ("Oleksandr", "Олександр"), ("Viktoriia", "Вікторія"), ("Yurii", "Юрій"),
         ("Halyna", "Галина"), ("Volodymyr", "Володимир"), ("Anastasiia", "Анастасія"), ("Petro", "Петро")]
LAST = [("Shevchenko", "Шевченко"), ("Kovalenko", "Коваленко"), ("Bondarenko", "Бондаренко"),
        ("Tkachenko", "Ткаченко"), ("Kravchenko", "Кравченко"), ("Melnyk", "Мельник"), ("Moroz", "Мороз"),
        ("Lysenko", "Лисенко"), ("Savchenko", "Савченко"), ("Rudenko", "Руденко"), ("Marchenko", "Марченко"),
        ("Boiko", "Бойко"), ("Kovalchuk", "Ковальчук"), ("Oliinyk", "Олійник"), ("Shevchuk", "Шевчук"),
        ("Polishchuk", "Поліщук"), ("Tkachuk", "Ткачук"), ("Kravets", "Кравець"), ("Koval", "Коваль"),
        ("Hrytsenko", "Гриценко"), ("Pavlenko", "Павленко"), ("Kuzmenko", "Кузьменко")]
DOMAINS = ("example.com", "example.org", "example.net")
DEVICES = [("phone", "Apple", "iPhone 13"), ("phone", "Apple", "iPhone 11"), ("phone", "Samsung", "Galaxy A54"),
           ("phone", "Samsung", "Galaxy S21"), ("phone", "Xiaomi", "Redmi Note 12"), ("phone", "Motorola", "G54"),
           ("laptop", "Lenovo", "ThinkPad T14"), ("laptop", "Apple", "MacBook Air M2"), ("laptop", "HP", "250 G8"),
           ("tablet", "Apple", "iPad 9"), ("tablet", "Samsung", "Galaxy Tab A8"), ("watch", "Apple", "Watch SE"),
           ("console", "Sony", "PlayStation 5"), ("headphones", "Apple", "AirPods Pro"), ("desktop", "Dell", "Vostro")]
PROBLEMS = ["Cracked screen", "Does not charge", "Battery drains fast", "No sound in calls", "Water damage",
            "Keyboard keys stuck", "Overheats and shuts down", "Camera is blurry", "Does not turn on",
            "Розбитий екран", "Не заряджається", "Швидко сідає батарея"]
LABOUR = [("Diagnostics", 30000), ("Screen replacement", 80000), ("Battery replacement", 50000),
          ("Cleaning after liquid damage", 90000), ("Charging port replacement", 60000), ("Software reinstall", 40000)]
PARTS = [("Display module", 350000), ("Battery", 120000), ("Charging port", 25000), ("Back cover", 45000),
         ("Camera module", 180000), ("Keyboard", 150000)]
TECHNICIANS = [(BENCH_TECHNICIAN, "Bench Technician"), ("tech-2", "Андрій Коваль"), ("tech-3", "Iryna Moroz"),
               ("tech-4", "Тарас Бойко"), ("tech-5", "Dmytro Lysenko")]
# Status by age of the order: recent ones are on the bench, old ones are mostly picked up.
S = Status
STATUS_BY_AGE = [
    (timedelta(days=2), {S.RECEIVED: 35, S.DIAGNOSING: 25, S.AWAITING_APPROVAL: 10, S.AWAITING_PARTS: 5,
                         S.IN_REPAIR: 15, S.READY: 5, S.PICKED_UP: 3, S.CANCELLED: 2}),
    (timedelta(days=14), {S.RECEIVED: 3, S.DIAGNOSING: 7, S.AWAITING_APPROVAL: 8, S.AWAITING_PARTS: 12,
                          S.IN_REPAIR: 15, S.READY: 15, S.PICKED_UP: 35, S.CANCELLED: 5}),
    (timedelta(days=60), {S.AWAITING_PARTS: 3, S.IN_REPAIR: 1, S.READY: 3, S.PICKED_UP: 85, S.CANCELLED: 8}),
    (SPAN * 2, {S.READY: 1, S.PICKED_UP: 91, S.CANCELLED: 8}),
]


def fast_search_text(name: str, email: str | None, phone: str) -> str:
    """build_search_text without phonenumbers: for +380XXNNNNNNN the national digits are 0XXNNNNNNN."""
    return " ".join(filter(None, [name.casefold(), (email or "").casefold(), phone[1:], "0" + phone[4:]]))


def imei_with_check_digit(first14: str) -> str:
    total = 0
    for index, char in enumerate(first14):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return first14 + str(-total % 10)


def staff_rows(now: datetime) -> list[dict]:
    password_hash = hash_password(BENCH_PASSWORD)  # argon2 is slow on purpose: hash once, reuse
    people = [(BENCH_MANAGER, "Bench Manager", Role.MANAGER), ("bench-desk", "Оксана Приймальна", Role.FRONT_DESK)]
    people += [(username, name, Role.TECHNICIAN) for username, name in TECHNICIANS]
    return [dict(id=i, username=u, full_name=n, role=r.value, password_hash=password_hash, is_active_account=True,
                 session_token=new_session_token(), failed_logins=0, created_at=now - SPAN)
            for i, (u, n, r) in enumerate(people, start=1)]


def customer_rows(rng: random.Random, count: int, start: datetime) -> list[dict]:
    phone_ids = rng.sample(range(len(OPERATOR_CODES) * 10**7), count)
    rows = []
    for i, phone_id in enumerate(phone_ids, start=1):
        code, subscriber = divmod(phone_id, 10**7)
        phone = f"+380{OPERATOR_CODES[code]}{subscriber:07d}"
        (first_lat, first_cyr), (last_lat, last_cyr) = rng.choice(FIRST), rng.choice(LAST)
        style = rng.random()
        if style < 0.55:
            name = f"{first_cyr} {last_cyr}"
        elif style < 0.65:
            name = f"{last_cyr} {first_cyr}"
        else:
            name = f"{first_lat} {last_lat}"
        email = None
        if rng.random() < 0.4:
            email = f"{first_lat}.{last_lat}{rng.randrange(100)}@{rng.choice(DOMAINS)}".lower()
        created = start + SPAN * ((i - 1) / count)
        birthday = (date(1950 + rng.randrange(55), 1 + rng.randrange(12), 1 + rng.randrange(28))
                    if rng.random() < 0.5 else None)
        rows.append(dict(
            id=i, phone=phone, name=name, email=email, birthday=birthday,
            birthday_mmdd=mmdd(birthday) if birthday else None,
            service_consent=rng.random() < 0.97, service_consent_at=created,
            marketing_consent=rng.random() < 0.6, marketing_consent_at=created, notes="",
            search_text=fast_search_text(name, email, phone), created_at=created, updated_at=created,
        ))
    return rows


def check_sample(rng: random.Random, customers: list[dict]) -> None:
    """The shortcuts above must give exactly what the app's own code gives."""
    for row in rng.sample(customers, min(500, len(customers))) + customers[:1] + customers[-1:]:
        assert row["search_text"] == build_search_text(row["name"], row["email"], row["phone"]), row
        assert phonenumbers.is_valid_number(phonenumbers.parse(row["phone"])), row["phone"]
    for _ in range(500):
        assert imei_is_valid(imei_with_check_digit(f"35{rng.randrange(10**12):012d}"))


def order_rows(rng: random.Random, order_id: int, customer_count: int, share: float, at: datetime, now: datetime,
               staff: dict, prefix: str) -> tuple[dict, list[dict], list[dict]]:
    """One order taken in at ``at``, with the lines and history its status implies."""
    age = now - at
    weights = next(w for limit, w in STATUS_BY_AGE if age < limit)
    status = rng.choices(list(weights), list(weights.values()))[0]
    kind, brand, model = rng.choice(DEVICES)
    technician = None if status == S.RECEIVED and rng.random() < 0.5 else rng.choice(staff["technicians"])
    steps = [S.RECEIVED, *PATHS[status]]
    gaps = [timedelta(hours=rng.uniform(0.5, 48)) for _ in steps[1:]]
    scale = min(1.0, (now - at) / sum(gaps, timedelta(0))) if gaps else 1.0  # the last change is not in the future
    changes, when, previous = [], at, None
    for step, gap in zip(steps, [timedelta(0), *gaps], strict=True):
        when += gap * scale
        changes.append(dict(order_id=order_id, from_status=previous, to_status=step.value,
                            changed_by_id=staff["desk"] if step == S.RECEIVED else technician, changed_at=when,
                            note=""))
        previous = step.value
    last = changes[-1]["changed_at"]
    lines = []
    if status not in (S.RECEIVED, S.DIAGNOSING):
        count = rng.randint(0, 1) if status == S.CANCELLED else rng.randint(1, 3)
        work = [("labour", rng.choice(LABOUR))] + [("part", part) for part in rng.sample(PARTS, 2)]
        for line_kind, (description, price) in work[:count]:
            lines.append(dict(order_id=order_id, kind=line_kind, description=description, quantity=1,
                              unit_price_minor=price, created_by_id=technician, created_at=last))
    order = dict(
        id=order_id, number=f"{prefix}{order_id:05d}", customer_id=rng.randint(1, max(1, int(share * customer_count))),
        device_type=kind, brand=brand, model=model, serial_number=f"SN{rng.randrange(10**8):08d}",
        imei=imei_with_check_digit(f"35{rng.randrange(10**12):012d}") if kind == "phone" else "",
        condition=rng.choice(["", "Scratches on the back", "Dent on the corner"]),
        accessories=rng.choice(["", "Charger", "Case"]), problem=rng.choice(PROBLEMS),
        estimate_minor=None if status == S.RECEIVED else rng.randrange(5, 500) * 1000,
        due_date=(at + timedelta(days=rng.randint(2, 10))).date() if rng.random() < 0.7 else None,
        priority=rng.choices([0, 1, 2], [87, 10, 3])[0], technician_id=technician, warranty_days=90,
        status=status.value, tracking_token=secrets.token_urlsafe(24), created_by_id=staff["desk"],
        created_at=at, updated_at=last, closed_at=last if status in CLOSED_STATUSES else None,
    )
    order["search_text"] = order_search_text(SimpleNamespace(**order))
    return order, lines, changes


def insert_batches(conn, table, rows: list[dict]) -> None:
    for i in range(0, len(rows), BATCH):
        conn.execute(insert(table), rows[i:i + BATCH])


def wipe(conn) -> None:
    # The item categories and the loyalty tiers are seeded by the migrations and stay.
    kept = {"orders_item_category", "loyalty_tier"}
    tables = [t for t in db.metadata.sorted_tables if t.name not in kept]
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY CASCADE"))
    else:  # the audit log's append-only triggers refuse DELETE: lifted while the tables are emptied
        triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                           "AND name LIKE 'loyalty_audit%'")).all()  # the search triggers stay
        for name, _ in triggers:
            conn.execute(text(f'DROP TRIGGER "{name}"'))
        for table in reversed(tables):
            conn.execute(table.delete())
        for _, sql in triggers:
            conn.execute(text(sql))


def fix_sequences(conn) -> None:
    """Rows went in with explicit ids; PostgreSQL's sequences must continue after them."""
    if conn.dialect.name != "postgresql":
        return
    for table in (StaffUser, Customer, RepairOrder, RepairOrderLine, OrderStatusChange):
        name = table.__tablename__
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                          f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"))


def generate(args) -> None:
    rng = random.Random(args.seed)
    app = bench_app(args.database_url)
    started = time.perf_counter()

    def tick(message: str) -> None:
        print(f"{time.perf_counter() - started:7.1f}s  {message}", flush=True)

    with app.app_context():
        upgrade()
        engine = db.engine
        tick(f"migrated {engine.url.render_as_string(hide_password=True)}")
        with engine.connect() as conn:
            existing = sum(conn.scalar(select(func.count()).select_from(t)) for t in (Customer, RepairOrder, StaffUser))
        if existing and not args.force:
            sys.exit("This database already has customers, orders or staff; use --force to wipe it first.")
        now = datetime.now(UTC)
        start = now - SPAN
        staff_ids = insert_staff(engine, now, wipe_first=bool(existing), tick=tick)
        insert_customers(engine, rng, args.customers, start, tick)
        order_count = insert_orders(engine, rng, args, start=start, now=now, staff_ids=staff_ids,
                                    prefix=app.config["ORDER_NUMBER_PREFIX"], tick=tick)
        with engine.begin() as conn:
            conn.execute(NumberCounter.__table__.delete())
            conn.execute(insert(NumberCounter.__table__), [{"name": "repair", "value": order_count}])
            fix_sequences(conn)
        generate_sales(engine, rng, customers=args.customers, start=start, now=now, desk_id=staff_ids["desk"],
                       walk_ins=args.customers // 2, tick=tick)
        generate_loyalty(engine, rng, now=now, tick=tick)
        if engine.dialect.name == "postgresql":
            # What autovacuum would soon do after a bulk load: fresh statistics and visibility map.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
            tick("VACUUM ANALYZE done")
    tick("done")


def insert_staff(engine, now: datetime, *, wipe_first: bool, tick) -> dict:
    """Empty the database first if asked, then the staff; returns the desk's id and the technicians' ids."""
    with engine.begin() as conn:
        if wipe_first:
            wipe(conn)
            tick("wiped the existing rows")
        staff = staff_rows(now)
        insert_batches(conn, StaffUser.__table__, staff)
    roles = {row["username"]: row["id"] for row in staff}
    return {"desk": roles["bench-desk"], "technicians": [roles[u] for u, _ in TECHNICIANS]}


def insert_customers(engine, rng: random.Random, count: int, start: datetime, tick) -> None:
    customers = customer_rows(rng, count, start)
    check_sample(rng, customers)
    tick(f"built {len(customers):,} customers (sample checked against build_search_text)")
    for i in range(0, len(customers), BATCH):
        with engine.begin() as conn:
            conn.execute(insert(Customer.__table__), customers[i:i + BATCH])
    tick(f"inserted {len(customers):,} customers")


def insert_orders(engine, rng: random.Random, args, *, start: datetime, now: datetime, staff_ids: dict, prefix: str,
                  tick) -> int:
    """Orders spread over the history in intake order (one transaction a batch, with their lines and
    status changes); returns how many."""
    order_count = round(args.customers * args.orders_per_customer)
    shares = sorted(rng.random() for _ in range(order_count))  # ids follow intake time
    totals = [0, 0]
    for first in range(0, order_count, BATCH):
        orders, lines, changes = [], [], []
        for order_id in range(first + 1, min(first + BATCH, order_count) + 1):
            share = shares[order_id - 1]
            order, order_lines, order_changes = order_rows(rng, order_id, args.customers, share,
                                                           start + SPAN * share, now, staff_ids, prefix)
            orders.append(order)
            lines += order_lines
            changes += order_changes
        with engine.begin() as conn:
            conn.execute(insert(RepairOrder.__table__), orders)
            insert_batches(conn, RepairOrderLine.__table__, lines)
            insert_batches(conn, OrderStatusChange.__table__, changes)
        totals[0] += len(lines)
        totals[1] += len(changes)
    tick(f"inserted {order_count:,} orders, {totals[0]:,} lines, {totals[1]:,} status changes")
    return order_count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--orders-per-customer", type=float, default=1.5)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--force", action="store_true", help="wipe a database that already has data")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    if args.customers < 1:
        parser.error("--customers must be at least 1")
    generate(args)


if __name__ == "__main__":
    main()
