"""GET /customers?q=: the desk's search (crm.customers.search), the same customers in the same order, in cursor
pages that hold still while customers are added; erased customers never appear."""

import pytest

from crm.customers.models import Customer
from crm.customers.search import search_customers
from crm.database import utcnow
from tests import factories

PEOPLE = [("Olena Kovalenko", "+380671230001", "olena@example.com"), ("Oleh Petrenko", "+380501230002", None),
          ("Iryna Kovalchuk", "+380671239903", "iryna.k@example.org"), ("Bob O'Neil_50%", "+40721230004", None),
          ("Андрій Шевченко", "+380931230005", None), ("Ana Popescu", "+37369123006", "ana@example.md")]


@pytest.fixture
def people(committed):
    def build(session):
        ids = [factories.customer(name=n, phone=p, email=e).id for n, p, e in PEOPLE]
        erased = factories.customer(name="Olena Erased", phone="+380671230099")
        erased.erased_at = utcnow()
        return ids, erased.id

    return committed(build)


def _api_all(client, headers, q, limit=2) -> list[int]:
    seen, cursor = [], None
    for _ in range(50):
        url = f"/api/v1/customers?limit={limit}&q={q}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        seen += [c["id"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("no last page")


def _desk_all(committed, q) -> list[int]:
    def read(session):
        ids, page = [], 1
        while True:
            rows, more = search_customers(session, q, page=page, per_page=2)
            ids += [c.id for c in rows if c.erased_at is None]
            if not more:
                return ids
            page += 1

    return committed(read)


@pytest.mark.parametrize("q", ["", "olena", "OLE", "kov", "067", "0671230001", "+380 67 123", "(067) 123-0001",
                               "123", "example", "шев", "_50%", "o'n", "1", "zz-nobody", "%", "ol%25"])
def test_the_same_customers_in_the_same_order_as_the_desks_search(client, api_token, committed, people, q):
    from urllib.parse import quote

    found = _api_all(client, api_token("read_only"), quote(q))
    assert found == _desk_all(committed, q)
    assert people[1] not in found


def test_a_phone_fragment_and_a_name_fragment(client, api_token, people):
    ids, _ = people
    headers = api_token("read_only")
    assert _api_all(client, headers, "1239903") == [ids[2]]
    assert _api_all(client, headers, "kovalenko") == [ids[0]]
    assert _api_all(client, headers, "olena") == [ids[0]]  # not the erased Olena
    body = client.get("/api/v1/customers?q=olena", headers=headers).get_json()
    assert body["items"][0]["phone"] == "+380671230001" and body["next_cursor"] is None


def test_pages_neither_repeat_nor_skip_while_customers_are_added(client, api_token, committed, people):
    ids, _ = people
    headers = api_token("read_only")
    first = client.get("/api/v1/customers?limit=2&q=example", headers=headers).get_json()
    committed(lambda session: [factories.customer(name=f"New {n}", email=f"new{n}@example.com") for n in range(3)])
    rest = client.get(f"/api/v1/customers?limit=2&q=example&cursor={first['next_cursor']}", headers=headers).get_json()
    assert [c["id"] for c in first["items"] + rest["items"]] == [ids[5], ids[2], ids[0]]


def test_erased_customers_never_appear(client, api_token, committed, people):
    _, erased_id = people
    headers = api_token("read_only")
    assert erased_id not in _api_all(client, headers, "")
    assert client.get(f"/api/v1/customers/{erased_id}", headers=headers).status_code == 404
    assert committed(lambda session: session.get(Customer, erased_id).erased_at is not None)


def test_a_cursor_beyond_every_id_is_the_first_page(client, api_token, people):
    ids, _ = people
    body = client.get("/api/v1/customers?q=example&cursor=999999999999", headers=api_token("read_only")).get_json()
    assert [c["id"] for c in body["items"]] == [ids[5], ids[2], ids[0]]


@pytest.mark.parametrize(("query", "field"), [("limit=0", "limit"), ("cursor=x", "cursor"), ("limit=201", "limit")])
def test_bad_paging_is_a_422(client, api_token, query, field):
    response = client.get(f"/api/v1/customers?{query}", headers=api_token("read_only"))
    assert response.status_code == 422 and field in response.get_json()["errors"]
