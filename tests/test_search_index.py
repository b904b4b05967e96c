"""The indexed searches (FTS5 on SQLite, the UNION on PostgreSQL) find exactly what the plain LIKE finds.

Random customers and orders (fixed seed) with Cyrillic, Romanian, Greek, German and Turkish letters in both
cases and the characters LIKE and FTS5 treat specially (% _ " ' * \\); many fragments: pieces of the stored
texts, the same typed in upper case, phone-looking input, random strings (mostly no match) and special
characters. Compared page by page, with the 1-2 character window both large and tiny, before and after
updates, a change of customer and deletes (the triggers' work)."""

import random

import pytest
from sqlalchemy import delete, func, select, text, update

from crm import search_index
from crm.customers import service as customer_service
from crm.customers.models import Customer
from crm.customers.search import like_customer_ids, search_customers, search_fragment
from crm.orders import service as order_service
from crm.orders.models import OrderStatusChange, RepairOrder
from crm.orders.queries import OrderFilters, like_order_ids, list_orders
from tests import factories

SEED = 20261203
LETTERS = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
           "абвгґдеєжзиіїйклмнопрстуфхцчшщьюяАБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯёъыэЁЪЫЭ"
           "ăâîșțĂÂÎȘȚşţŞŢ" "ßẞΣσςİıéÉ")
SPECIAL = "%_\"'*\\-.@+() "
NAMES = ["Олена Шевченко", "ОЛЕНА КОВАЛЬЧУК", "Ștefan Țăranu", "ȘTEFAN ȚURCANU", "Ioana Bălănescu", "Iryna Moroz",
         "Ґанна Їжак", "Straße Groß", "ΟΔΥΣΣΕΥΣ", "İlker Işık", 'Ion "Big" O\'Neil', "50% Off_Shop*", "a\\b"]


def _phone(rng, used):
    while True:
        phone = "+380" + rng.choice(["50", "63", "67", "68", "93", "99"]) + f"{rng.randrange(10**7):07d}"
        if phone not in used:
            used.add(phone)
            return phone


def _word(rng, size):
    return "".join(rng.choice(LETTERS + SPECIAL[:6]) for _ in range(size))


def _name(rng):
    if rng.random() < 0.3:
        return rng.choice(NAMES)
    return " ".join(_word(rng, rng.randint(2, 9)) for _ in range(rng.randint(1, 3))).strip() or "X"


def _email(rng):
    return rng.choice([None, None, f"{_word(rng, 5).replace(' ', '')}{rng.randrange(100)}@example.com",
                       "Olena.Shev@Example.COM"])


def _order_data(rng, technicians):
    return order_service.OrderData(
        device_type="phone", brand=rng.choice(["Apple", "Samsung", "Xiaomi", "Ąčme", "ZTE"]),
        model=_word(rng, rng.randint(2, 10)), problem="screen",
        serial_number=rng.choice(["", "", f"SN-{rng.randrange(10**6)}", _word(rng, 6)]),
        technician_id=rng.choice([None, *technicians]))


def _build(session, rng):
    used: set[str] = set()
    technicians = [factories.staff().id, factories.staff().id]
    customers = []
    for _ in range(160):
        data = customer_service.CustomerData(name=_name(rng), phone=_phone(rng, used), email=_email(rng))
        customers.append(customer_service.create_customer(session, data, region="UA"))
    for _ in range(260):
        order_service.create_order(session, rng.choice(customers), _order_data(rng, technicians), created_by=None,
                                   number_prefix=rng.choice(["R-", "Ц-", "r%_"]))
    session.flush()
    return customers, technicians


def _fragments(session, rng, count=140):
    texts = list(session.scalars(select(Customer.search_text))) + list(session.scalars(select(RepairOrder.search_text)))
    fragments = ["", "   ", "%", "_", '"', "'", "*", "\\", "%_", "a%b", '"a"', "' OR 1=1", "NEAR(", "AND", "OR",
                 "-", ".", "@", "+", "067 12", "+38(067)", "0-5", "(0", "0", "05", "zzqx", "щщщ", "ї", "ș", "ş", "ss",
                 "ß", "σ", "ς", "i̇", "олена", "ОЛЕНА", "ȘTEF", "ștef", "țăr", "example.com", "r%_", "ц-"]
    for _ in range(count):
        source = rng.choice(texts)
        start = rng.randrange(len(source))
        piece = source[start:start + rng.randint(1, 7)]
        fragments.append(piece.upper() if rng.random() < 0.3 else piece)
    fragments += [_word(rng, rng.randint(1, 4)) for _ in range(count // 2)]
    return fragments


def _customer_ids(session, query, per_page, page=1):
    rows, has_next = search_customers(session, query, page=page, per_page=per_page)
    return [c.id for c in rows], has_next


def _reference_customers(session, query):
    fragment = search_fragment(query)
    stmt = select(Customer.id) if fragment is None else like_customer_ids(fragment)
    return list(session.scalars(stmt.order_by(Customer.id.desc())))


def _reference_orders(session, query, technician):
    stmt = like_order_ids(search_fragment(query))
    if technician:
        stmt = stmt.where(RepairOrder.technician_id == int(technician))
    return list(session.scalars(stmt.order_by(RepairOrder.id.desc())))


def _order_ids(session, query, technician="", per_page=1000, page=1):
    rows, has_next = list_orders(session, OrderFilters(text=query, technician=technician), tz=None, page=page,
                                 per_page=per_page)
    return [o.id for o in rows], has_next


def _is_order_number(session, query):
    return session.scalar(select(RepairOrder.id).where(RepairOrder.number == query.strip().upper())) is not None


def _compare_all(session, fragments, technicians):
    checked = matched = 0
    for query in fragments:
        expected = _reference_customers(session, query)
        assert _customer_ids(session, query, per_page=1000) == (expected, False), query
        for page in (1, 2, 3):
            assert _customer_ids(session, query, 4, page) == (expected[4 * (page - 1):4 * page],
                                                               len(expected) > 4 * page), (query, page)
        if search_fragment(query) is None or _is_order_number(session, query):
            continue
        for technician in ("", str(technicians[0])):
            expected_orders = _reference_orders(session, query, technician)
            assert _order_ids(session, query, technician) == (expected_orders, False), (query, technician)
            assert _order_ids(session, query, technician, 3, 2) == (expected_orders[3:6], len(expected_orders) > 6)
        checked += 1
        matched += bool(expected)
    return checked, matched


def _change_some(session, rng, customers):
    for customer in rng.sample(customers, 40):
        data = customer_service.CustomerData(name=_name(rng), phone=customer.phone if rng.random() < 0.5 else
                                             _phone(rng, set(session.scalars(select(Customer.phone)))),
                                             email=_email(rng))
        customer_service.update_customer(session, customer, data, region="UA")
    orders = list(session.scalars(select(RepairOrder)))
    for order in rng.sample(orders, 40):
        order_service.update_order(session, order, _order_data(rng, [None]))
    session.flush()
    moved = rng.sample(orders, 10)
    session.execute(update(RepairOrder).where(RepairOrder.id.in_([o.id for o in moved]))
                    .values(customer_id=customers[0].id))
    gone = [o.id for o in rng.sample(orders, 15)]
    session.execute(delete(OrderStatusChange).where(OrderStatusChange.order_id.in_(gone)))
    session.execute(delete(RepairOrder).where(RepairOrder.id.in_(gone)))
    without_orders = select(Customer.id).where(~Customer.id.in_(select(RepairOrder.customer_id))).limit(10)
    session.execute(delete(Customer).where(Customer.id.in_(list(session.scalars(without_orders)))))
    session.expire_all()


@pytest.mark.parametrize("window", [search_index.WINDOW, 5])
def test_indexed_search_finds_exactly_what_like_finds(session, monkeypatch, window):
    monkeypatch.setattr(search_index, "WINDOW", window)
    rng = random.Random(SEED + window)
    customers, technicians = _build(session, rng)
    fragments = _fragments(session, rng)
    checked, matched = _compare_all(session, fragments, technicians)
    assert checked > 200 and 100 < matched < checked - 30  # both found and not found, for real
    _change_some(session, rng, customers)
    _compare_all(session, fragments + _fragments(session, rng, 60), technicians)


def test_case_of_typed_letters_does_not_matter_in_any_alphabet(session, make):
    make.customer(name="ȘTEFAN ȚĂRANU", phone="+380501112233", email="Stefan@Mail.RO")
    make.customer(name="Олена Їжак", phone="+380671112233")
    make.customer(name="Straße", phone="+380931112233")
    for typed, name in [("ștef", "ȘTEFAN ȚĂRANU"), ("ȚĂR", "ȘTEFAN ȚĂRANU"), ("STEFAN@MAIL", "ȘTEFAN ȚĂRANU"),
                        ("ОЛЕНА", "Олена Їжак"), ("їж", "Олена Їжак"), ("STRASSE", "Straße"), ("ß", "Straße")]:
        assert [c.name for c in search_customers(session, typed)[0]] == [name], typed


def test_a_short_fragment_is_found_beyond_the_newest_window(session, monkeypatch, make):
    monkeypatch.setattr(search_index, "WINDOW", 3)
    oldest = make.customer(name="Țuică", phone="+380501234567")
    for n in range(5):
        make.customer(name=f"Newer {n}", phone=f"+38067765432{n}")
    assert [c.id for c in search_customers(session, "ț")[0]] == [oldest.id]
    assert [c.id for c in search_customers(session, "ȚU")[0]] == [oldest.id]
    assert search_customers(session, "щ") == ([], False)


def test_indexes_exist_only_on_sqlite_with_their_triggers(session):
    """SQLite: the FTS5 tables, their vocabularies and the six triggers. PostgreSQL: none of them, its searches
    use the pg_trgm GIN indexes of 0001, the orders' copy of the customer text (0022) with its two triggers, the
    short-fragment indexes (0023) and the search texts' finer statistics (0024)."""
    if search_index.uses_fts(session):
        names = set(session.scalars(text("SELECT name FROM sqlite_master WHERE name LIKE '%_fts%'")))
        assert {"customers_customer_fts", "orders_repair_order_fts", "customers_customer_fts_terms",
                "orders_repair_order_fts_terms", "customers_customer_fts_ai", "customers_customer_fts_au",
                "customers_customer_fts_ad", "orders_repair_order_fts_ai", "orders_repair_order_fts_au",
                "orders_repair_order_fts_ad"} <= names
    else:
        assert not session.scalars(text("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_name LIKE '%\\_fts%'")).all()
        indexes = set(session.scalars(text("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%'")))
        assert {"ix_customers_customer_search_text_trgm", "ix_orders_repair_order_search_text_trgm",
                "ix_orders_repair_order_customer_search_text_trgm"} <= indexes
        triggers = set(session.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
        assert {"orders_repair_order_customer_text", "customers_customer_text_to_orders"} <= triggers
        short = set(session.scalars(text("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%crm_short_grams%'")))
        assert short == {"ix_customers_customer_search_text_short", "ix_orders_repair_order_search_text_short",
                         "ix_orders_repair_order_customer_search_text_short"}
        # 0023's function: every character and pair of characters (the index holds each key once)
        for value, grams in (("ab", {"a", "b", "ab"}), ("ț0ț", {"ț", "0", "ț0", "0ț"}), ("a", {"a"}), ("", {""})):
            assert set(session.scalar(text("SELECT crm_short_grams(:v)"), {"v": value})) == grams
        # 0024: 1,000 histogram entries, so the planner sees how common a fragment of 1 % is
        targets = dict(session.execute(text(
            "SELECT attrelid::regclass::text || '.' || attname, attstattarget FROM pg_attribute "
            "WHERE attname IN ('search_text', 'customer_search_text') "
            "AND attrelid IN ('customers_customer'::regclass, 'orders_repair_order'::regclass)")).all())
        assert targets == {"customers_customer.search_text": 1000, "orders_repair_order.search_text": 1000,
                           "orders_repair_order.customer_search_text": 1000}


def test_a_search_on_postgresql_is_planned_for_its_own_fragment(session, make, count_queries):
    """PostgreSQL: the search transaction plans each statement for its values (a generic plan of a prepared search
    read every row of a common fragment) without parallel workers, and the next transaction plans as usual. SQLite:
    no such setting."""
    make.order(make.customer(name="Olena Shevchenko"))
    session.commit()
    workers = None if search_index.uses_fts(session) else session.scalar(text("SHOW max_parallel_workers_per_gather"))
    with count_queries() as counter:
        search_customers(session, "q")
        list_orders(session, OrderFilters(text="q"), tz=None)
    settings = [s for s in counter.statements if "plan_cache_mode" in s]
    if search_index.uses_fts(session):
        assert settings == []
        return
    assert settings == [search_index.SEARCH_SETTINGS]  # once for both searches
    assert session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
    assert session.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"
    session.commit()  # local settings end with their transaction
    assert session.scalar(text("SHOW plan_cache_mode")) == "auto"
    assert session.scalar(text("SHOW max_parallel_workers_per_gather")) == workers


def test_a_search_is_a_fixed_number_of_statements(session, make, count_queries):
    customer = make.customer(name="Olena Shevchenko")
    for _ in range(30):
        make.order(customer, model="Galaxy S22")
    for typed in ("shev", "sh", "zzqx", "z"):
        with count_queries() as counter:
            search_customers(session, typed)
            _order_ids(session, typed)
        assert counter.count <= 6, (typed, counter.statements)
    assert session.scalar(select(func.count()).select_from(RepairOrder)) == 30


def test_rebuild_indexes_everything_again(app, session, make):
    customer = make.customer(name="Olena Shevchenko", phone="+380671234567")
    make.order(customer, model="Galaxy S22")
    if search_index.uses_fts(session):  # an index that lost its rows (a restored file, a recreated table)
        for name in search_index.FTS_TABLES:
            session.execute(text(f"INSERT INTO {name}({name}) VALUES ('delete-all')"))
        assert search_customers(session, "shev") == ([], False)
    session.commit()
    result = app.test_cli_runner().invoke(args=["crm", "rebuild-search-index"])
    assert result.exit_code == 0, result.output
    assert ("rebuilt" if search_index.uses_fts(session) else "Nothing to rebuild") in result.output
    assert [c.id for c in search_customers(session, "shev")[0]] == [customer.id]
    assert [c.id for c in search_customers(session, "s")[0]] == [customer.id]
    assert len(_order_ids(session, "s22")[0]) == 1
