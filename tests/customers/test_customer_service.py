"""Customer rules: one customer per phone number, consent with its time, search by any fragment."""

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from crm.customers import service
from crm.customers.models import Customer
from crm.customers.service import CustomerData, CustomerError, DuplicatePhone
from crm.extensions import db

T0 = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
T1 = datetime(2024, 2, 20, 15, 30, tzinfo=UTC)
T2 = datetime(2024, 3, 5, 8, 15, tzinfo=UTC)


def create(session, name="Taras Shevchenko", phone="067 123 45 67", now=None, region="UA", **fields):
    return service.create_customer(session, CustomerData(name=name, phone=phone, **fields), region=region, now=now)


def data_of(customer: Customer, **changes) -> CustomerData:
    fields = dict(name=customer.name, phone=customer.phone, email=customer.email, birthday=customer.birthday,
                  service_consent=customer.service_consent, marketing_consent=customer.marketing_consent,
                  notes=customer.notes)
    fields.update(changes)
    return CustomerData(**fields)


def found(session, query, **kwargs) -> set[str]:
    customers, _has_next = service.search_customers(session, query, **kwargs)
    return {c.name for c in customers}


# --- creating and editing -------------------------------------------------------------------------------

def test_new_customer_is_stored_with_normalised_phone_and_clean_fields(session):
    customer = create(session, name="  Taras  ", phone="(067) 123-45-67", email=" Taras@Example.COM ",
                      birthday=date(1990, 3, 9), notes="  prefers calls  ")
    session.commit()
    session.expire_all()
    stored = session.get(Customer, customer.id)
    assert stored.phone == "+380671234567"
    assert stored.name == "Taras"
    assert stored.email == "taras@example.com"
    assert stored.birthday == date(1990, 3, 9)
    assert stored.notes == "prefers calls"


def test_empty_email_is_stored_as_none(session):
    assert create(session, email="   ").email is None


def test_invalid_phone_is_refused_on_the_phone_field(session):
    with pytest.raises(CustomerError) as caught:
        create(session, phone="12345")
    assert caught.value.field == "phone"
    assert str(caught.value.message)


@pytest.mark.parametrize("other_format", ["+380671234567", "0671234567", "(067) 123-45-67", "+38 067 123 45 67"])
def test_same_number_in_another_format_raises_duplicate_phone_with_the_existing_customer(session, other_format):
    existing = create(session, name="First", phone="067 123 45 67")
    session.commit()
    with pytest.raises(DuplicatePhone) as caught:
        create(session, name="Second", phone=other_format)
    assert caught.value.existing.id == existing.id
    assert caught.value.field == "phone"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_update_cannot_take_another_customers_number(session):
    first = create(session, name="First", phone="067 123 45 67")
    second = create(session, name="Second", phone="050 111 22 33")
    with pytest.raises(DuplicatePhone) as caught:
        service.update_customer(session, second, data_of(second, phone="+380 67 123 45 67"), region="UA")
    assert caught.value.existing.id == first.id


def test_update_may_keep_the_own_number_in_another_format(session):
    customer = create(session, phone="067 123 45 67")
    service.update_customer(session, customer, data_of(customer, phone="(067) 123-45-67", name="Renamed"), region="UA")
    assert customer.phone == "+380671234567"
    assert customer.name == "Renamed"


def test_update_may_move_to_a_free_number(session):
    customer = create(session, phone="067 123 45 67")
    service.update_customer(session, customer, data_of(customer, phone="050 111 22 33"), region="UA")
    session.commit()
    assert service.find_by_phone(session, "+380501112233").id == customer.id
    assert service.find_by_phone(session, "+380671234567") is None


def test_two_desks_adding_the_same_number_at_once_get_one_customer(app, monkeypatch):
    """The database's unique constraint settles a race the read-before-insert cannot see: the loser
    gets DuplicatePhone, not a database error."""
    barrier = threading.Barrier(2, timeout=10)
    both_looked = threading.Barrier(2)
    looked = threading.local()
    outcomes = []
    real_find_by_phone = service.find_by_phone

    def find_then_wait_for_the_other_desk(session, phone):
        existing = real_find_by_phone(session, phone)
        if not getattr(looked, "once", False):
            looked.once = True
            try:
                both_looked.wait(timeout=0.5)  # both desks see no customer yet, then both insert
            except threading.BrokenBarrierError:
                pass  # SQLite: the other desk is waiting for the write lock, so there is no race to stage
        return existing

    monkeypatch.setattr(service, "find_by_phone", find_then_wait_for_the_other_desk)

    def add(name):
        with app.app_context():
            try:
                barrier.wait()
                create(db.session, name=name, phone="067 123 45 67")
                db.session.commit()
                outcomes.append("created")
            except DuplicatePhone as exc:
                outcomes.append(f"duplicate of {exc.existing.phone}")
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=add, args=(f"Desk {i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["created", "duplicate of +380671234567"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 1
        db.session.remove()


# --- consent --------------------------------------------------------------------------------------------

def test_consent_times_are_set_at_creation(session):
    customer = create(session, now=T0, service_consent=True, marketing_consent=False)
    session.commit()
    session.expire_all()
    assert customer.service_consent_at == T0
    assert customer.marketing_consent_at == T0
    assert customer.created_at == T0


def test_saving_without_changing_consent_keeps_its_time(session):
    customer = create(session, now=T0, marketing_consent=True)
    service.update_customer(session, customer, data_of(customer, name="New name"), region="UA", now=T1)
    session.commit()
    session.expire_all()
    assert customer.service_consent_at == T0
    assert customer.marketing_consent_at == T0


def test_changing_one_consent_flag_records_the_time_of_that_flag_only(session):
    customer = create(session, now=T0, service_consent=True, marketing_consent=False)
    service.update_customer(session, customer, data_of(customer, marketing_consent=True), region="UA", now=T1)
    assert (customer.service_consent_at, customer.marketing_consent_at) == (T0, T1)
    service.update_customer(session, customer, data_of(customer, service_consent=False), region="UA", now=T2)
    session.commit()
    session.expire_all()
    assert customer.service_consent is False
    assert customer.marketing_consent is True
    assert (customer.service_consent_at, customer.marketing_consent_at) == (T2, T1)


# --- search ---------------------------------------------------------------------------------------------

@pytest.fixture
def shop_customers(session):
    create(session, name="Олена Коваль", phone="067 123 45 67", email="olena@example.com")
    create(session, name="Ivan Franko", phone="050 999 88 77", email="ivan.franko@mail.test")
    create(session, name="Maria Popescu", phone="0721 987 654", region="RO", email="maria_p@example.ro")
    create(session, name="Mariax Pop", phone="063 555 44 33", email="mariaxp@example.ro")
    create(session, name="Discount 100% Club", phone="097 000 11 22")
    session.commit()


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("380671", {"Олена Коваль"}),  # international digits
        ("+380 67 1", {"Олена Коваль"}),
        ("0671234", {"Олена Коваль"}),  # national digits, as the customer dictates them
        ("067 12", {"Олена Коваль"}),  # with spaces
        ("(067) 123-45", {"Олена Коваль"}),
        ("4567", {"Олена Коваль"}),  # the tail of the number
        ("0721", {"Maria Popescu"}),
        ("40721", {"Maria Popescu"}),
        ("олен", {"Олена Коваль"}),  # Cyrillic, any case
        ("ОЛЕНА", {"Олена Коваль"}),
        ("КОВАЛЬ", {"Олена Коваль"}),
        ("franko", {"Ivan Franko"}),
        ("IVAN F", {"Ivan Franko"}),
        ("mail.test", {"Ivan Franko"}),  # part of the e-mail
        ("OLENA@", {"Олена Коваль"}),
        ("nobody", set()),
    ],
)
def test_search_finds_customers_by_any_fragment(session, shop_customers, query, names):
    assert found(session, query) == names


def test_empty_search_lists_everyone(session, shop_customers):
    assert len(found(session, "")) == 5
    assert len(found(session, "   ")) == 5


def test_percent_in_the_query_is_a_literal_percent(session, shop_customers):
    assert found(session, "%") == {"Discount 100% Club"}
    assert found(session, "100%") == {"Discount 100% Club"}


def test_underscore_in_the_query_is_a_literal_underscore(session, shop_customers):
    # Unescaped, "_" would match any one character and find mariaxp@ as well.
    assert found(session, "maria_p") == {"Maria Popescu"}
    assert found(session, "_") == {"Maria Popescu"}


def test_backslash_in_the_query_is_literal(session, shop_customers):
    create(session, name=r"Back\slash", phone="068 222 33 44")
    assert found(session, "k\\s") == {r"Back\slash"}
    assert found(session, "\\") == {r"Back\slash"}


def test_search_results_are_newest_first(session):
    older = create(session, name="Older")
    newer = create(session, name="Newer", phone="050 111 22 33")
    customers, _ = service.search_customers(session, "")
    assert [c.id for c in customers] == [newer.id, older.id]


def test_pagination_says_whether_a_next_page_exists(session):
    for i in range(5):
        create(session, name=f"Customer {i}", phone=f"067 000 00 0{i}")
    seen = []
    for page, expected_size, expected_next in [(1, 2, True), (2, 2, True), (3, 1, False)]:
        customers, has_next = service.search_customers(session, "", page=page, per_page=2)
        assert (len(customers), has_next) == (expected_size, expected_next)
        seen.extend(c.id for c in customers)
    assert len(set(seen)) == 5
    assert service.search_customers(session, "", page=4, per_page=2) == ([], False)


def test_a_full_last_page_has_no_next_page(session):
    for i in range(4):
        create(session, name=f"Customer {i}", phone=f"067 000 00 0{i}")
    customers, has_next = service.search_customers(session, "", page=2, per_page=2)
    assert len(customers) == 2
    assert has_next is False


def test_page_below_one_is_the_first_page(session):
    create(session)
    assert service.search_customers(session, "", page=0) == service.search_customers(session, "", page=1)


def test_search_follows_an_edit_of_name_email_and_phone(session):
    customer = create(session, name="Old Name", phone="067 123 45 67", email="old@example.com")
    service.update_customer(session, customer, data_of(customer, name="Нове Імʼя", phone="050 111 22 33",
                                                       email="new@example.com"), region="UA")
    session.commit()
    for stale in ["old name", "old@", "0671234", "380671"]:
        assert found(session, stale) == set(), stale
    for fresh in ["нове", "new@", "0501112", "380501"]:
        assert found(session, fresh) == {"Нове Імʼя"}, fresh
