"""Substring search that does not grow with the data: the FTS5 trigram indexes of migration 0014 (SQLite).

Semantics (the same as the LIKE queries they replace, docs/search.md): a row matches when its case-folded
`search_text` contains the fragment as a substring, character for character. The fragment is what the desk
typed, already cleaned and case-folded (or reduced to its digits) by the caller.

- 3+ characters: an FTS5 phrase of the fragment's trigrams ("" doubles a quote), read newest rowid first,
  so a page stops after its rows (ORDER BY rowid DESC is answered by the index).
- 1-2 characters: first the newest WINDOW rows are checked with LIKE (a short fragment is usually common:
  the page is full there and exact, because it is the newest matches); otherwise the trigrams that begin
  with the fragment are read from the index's vocabulary and OR-ed into one MATCH. The indexed values end
  with two U+0001 characters, so every occurrence of a short fragment begins one of them.

PostgreSQL keeps LIKE over its pg_trgm GIN indexes; `uses_fts` says which path a session takes. There each
order also holds a copy of its customer's search_text (migration 0022, kept by triggers, not in the model:
`order_customer_text()`), so the order search reads one table, and a one- or two-character fragment, which pg_trgm
cannot index, is found through the index of every character and pair of characters (0023,
`short_fragment_match()`).
"""

from sqlalchemy import Integer, String, Text, column, func, literal, literal_column, select, table, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

# The newest rows a one- or two-character fragment is first looked for in (a cheap, bounded LIKE scan).
WINDOW = 1000
# The index's tables (not models: migration 0014 creates them on SQLite only); Alembic's comparison skips them.
FTS_TABLES = ("customers_customer_fts", "orders_repair_order_fts")


def is_search_index_table(name: str) -> bool:
    """The FTS tables, their vocabularies and FTS5's shadow tables (…_data, _idx, _docsize, _config)."""
    return any(name == fts or name.startswith(fts + "_") for fts in FTS_TABLES)


# PostgreSQL's copy of each order's customer search_text and its trigram index (migration 0022), and the indexes of
# every character and pair of characters of the texts (0023), by table.
_ORDER_CUSTOMER_TEXT = "customer_search_text"
_PG_ONLY = {
    ("column", _ORDER_CUSTOMER_TEXT, "orders_repair_order"),
    ("index", "ix_orders_repair_order_customer_search_text_trgm", "orders_repair_order"),
    ("index", "ix_orders_repair_order_search_text_short", "orders_repair_order"),
    ("index", "ix_orders_repair_order_customer_search_text_short", "orders_repair_order"),
    ("index", "ix_customers_customer_search_text_short", "customers_customer"),
}


def is_search_index_object(name: str, type_: str, parent_names) -> bool:
    """What the migrations create for the search beside the models (Alembic's comparison leaves them out): the
    FTS tables on SQLite; on PostgreSQL the orders' copy of their customer's text and the short-fragment indexes."""
    if type_ == "table":
        return is_search_index_table(name)
    return (type_, name, (parent_names or {}).get("table_name")) in _PG_ONLY


_CUSTOM_PLANS = "crm.search.custom_plans"  # connection.info: the transaction told to plan each statement anew
# One statement, local to the transaction (is_local = true), and a SELECT: crm.database still sees a transaction that
# only read.
SEARCH_SETTINGS = ("SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
                   "set_config('max_parallel_workers_per_gather', '0', true)")


def plan_for_the_fragment(session: Session) -> None:
    """PostgreSQL: the rest of this transaction plans each statement for its own values. psycopg prepares a
    statement run often, and after a few runs PostgreSQL may keep one generic plan for every value; for a search
    the right plan depends on how common the fragment is (the newest rows for a common one, an index for a rare
    one): the generic plan PostgreSQL settled on for the customer search rechecked every row holding a common
    fragment (1.4 s at 100k). Nor does a page of 25 rows start parallel workers: at 1M the planner's guess for a
    rare short fragment (thousands of rows, none there) started two, 6-8 ms of a 0.2 ms search. Once a transaction
    (both settings end with it)."""
    connection = session.connection()
    transaction = connection.get_transaction()
    if connection.info.get(_CUSTOM_PLANS) is not transaction:
        connection.exec_driver_sql(SEARCH_SETTINGS)
        connection.info[_CUSTOM_PLANS] = transaction


def short_fragment_match(text_column, fragment: str):
    """PostgreSQL, a fragment of one or two characters: the text holds it, as the GIN index of migration 0023 on
    crm_short_grams(text) answers (the text's characters and pairs of characters contain the fragment exactly when
    the text does). Added to the LIKE, not instead of it: where the planner walks the newest rows for a common
    fragment, the cheap LIKE is checked first and the function runs only for the rows that match."""
    return func.crm_short_grams(text_column, type_=ARRAY(Text)).contains(literal([fragment], ARRAY(Text)))


def order_customer_text(orders_table):
    """The orders' copy of their customer's search_text (PostgreSQL only), as a column of ``orders_table``."""
    return column(_ORDER_CUSTOMER_TEXT, String, _selectable=orders_table)


def uses_fts(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def like_pattern(fragment: str) -> str:
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_string(value: str) -> str:
    """An FTS5 string literal: the whole value as one phrase, whatever characters it holds."""
    return '"' + value.replace('"', '""') + '"'


def match_expression(session: Session, fts_table: str, fragment: str) -> str | None:
    """What to MATCH for the fragment; None when no row can match."""
    if len(fragment) >= 3:
        return fts_string(fragment)
    terms = session.scalars(
        text(f"SELECT term FROM {fts_table}_terms WHERE term >= :low AND term < :high")
        .bindparams(low=fragment, high=fragment + "\U0010ffff")
    ).all()
    return " OR ".join(fts_string(term) for term in terms) or None


def matching_rowids(fts_table: str, match: str):
    """A subquery (column `id`) of the matching rowids, newest first, read lazily from the index."""
    fts = table(fts_table, column("rowid", Integer))
    return (select(fts.c.rowid.label("id"))
            .where(literal_column(fts_table).op("MATCH")(match))
            .order_by(fts.c.rowid.desc())
            .subquery(f"{fts_table}_match"))


def window_ids(session: Session, ids, id_column, matching, need: int) -> list[int] | None:
    """The first `need` ids of `matching` (a select of matching ids) among the newest WINDOW ids of `ids` (the
    same rows unfiltered by the fragment), newest first; None when the window holds fewer: then only the index
    knows. The window is a primary-key range, walked backwards and left as soon as the page is full.

    SQLite takes the range's lower end as a subquery. PostgreSQL gets it as a number read first: given a
    subquery it plans the range as a third of the table and hashes the whole customers table into the join."""
    oldest = ids.order_by(id_column.desc()).offset(WINDOW - 1).limit(1)
    oldest = oldest.scalar_subquery() if uses_fts(session) else session.scalar(oldest)
    found = list(session.scalars(matching.where(id_column >= func.coalesce(oldest, 0))
                                 .order_by(id_column.desc()).limit(need)))
    return found if len(found) == need else None


# What migration 0014 indexes (the same statements; kept there too, as migrations do not change).
_END = "char(1, 1)"
_REINDEX = (
    "INSERT INTO customers_customer_fts(customers_customer_fts) VALUES ('delete-all')",
    f"INSERT INTO customers_customer_fts(rowid, text) SELECT id, search_text || {_END} FROM customers_customer",
    "INSERT INTO orders_repair_order_fts(orders_repair_order_fts) VALUES ('delete-all')",
    f"INSERT INTO orders_repair_order_fts(rowid, own, cust) SELECT o.id, o.search_text || {_END}, "
    f"c.search_text || {_END} FROM orders_repair_order o JOIN customers_customer c ON c.id = o.customer_id",
)


def rebuild(session: Session) -> bool:
    """Index every customer and order again (after restoring a file, or a migration that recreated one of the
    tables without the triggers). False on PostgreSQL, which has no such index. The caller commits."""
    if not uses_fts(session):
        return False
    for statement in _REINDEX:
        session.execute(text(statement))
    return True
