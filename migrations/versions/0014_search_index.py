"""search that does not grow with the data: FTS5 trigram indexes on SQLite

Revision ID: 0014_search_index
Revises: 0013_staff_performance
Create Date: 2026-12-03

SQLite only (crm/search_index.py and docs/search.md describe the queries). Two contentless FTS5 tables
with the trigram tokenizer, case-sensitive because the app already stores `search_text` case-folded:

- customers_customer_fts(text): one row per customer, rowid = customer id, text = search_text.
- orders_repair_order_fts(own, cust): one row per repair order, rowid = order id, own = the order's
  search_text, cust = its customer's search_text (the order list's text filter matches either).

Every indexed value ends with two U+0001 characters (never typed: crm.text strips control characters),
so every occurrence of a one- or two-character fragment begins some trigram of the value.
Triggers keep both tables in step with INSERT, UPDATE and DELETE of the base rows; a contentless table
forgets a row only when given the exact values it indexed, which the triggers pass from OLD.
A fts5vocab table per index lists its trigrams (the one- and two-character fragments' lookup).

PostgreSQL: nothing to do; the pg_trgm GIN indexes of 0001 serve LIKE '%...%' there.
Note for later migrations: a batch_alter_table that recreates customers_customer or orders_repair_order
on SQLite drops these triggers; call create_triggers() of this file again after it.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014_search_index'
down_revision = '0013_staff_performance'
branch_labels = None
depends_on = None

END = "char(1, 1)"

TABLES = f"""
CREATE VIRTUAL TABLE customers_customer_fts USING fts5(
    text, content='', tokenize='trigram case_sensitive 1');
CREATE VIRTUAL TABLE customers_customer_fts_terms USING fts5vocab(customers_customer_fts, 'row');
CREATE VIRTUAL TABLE orders_repair_order_fts USING fts5(
    own, cust, content='', tokenize='trigram case_sensitive 1');
CREATE VIRTUAL TABLE orders_repair_order_fts_terms USING fts5vocab(orders_repair_order_fts, 'row');
INSERT INTO customers_customer_fts(rowid, text)
    SELECT id, search_text || {END} FROM customers_customer;
INSERT INTO orders_repair_order_fts(rowid, own, cust)
    SELECT o.id, o.search_text || {END}, c.search_text || {END}
    FROM orders_repair_order o JOIN customers_customer c ON c.id = o.customer_id;
"""

_CUSTOMER_OF = "(SELECT c.search_text FROM customers_customer c WHERE c.id = {}.customer_id) || " + END

TRIGGERS = {
    "customers_customer_fts_ai": f"""
CREATE TRIGGER customers_customer_fts_ai AFTER INSERT ON customers_customer BEGIN
    INSERT INTO customers_customer_fts(rowid, text) VALUES (new.id, new.search_text || {END});
END""",
    "customers_customer_fts_ad": f"""
CREATE TRIGGER customers_customer_fts_ad AFTER DELETE ON customers_customer BEGIN
    INSERT INTO customers_customer_fts(customers_customer_fts, rowid, text)
        VALUES ('delete', old.id, old.search_text || {END});
END""",
    "customers_customer_fts_au": f"""
CREATE TRIGGER customers_customer_fts_au AFTER UPDATE OF id, search_text ON customers_customer BEGIN
    INSERT INTO customers_customer_fts(customers_customer_fts, rowid, text)
        VALUES ('delete', old.id, old.search_text || {END});
    INSERT INTO customers_customer_fts(rowid, text) VALUES (new.id, new.search_text || {END});
    INSERT INTO orders_repair_order_fts(orders_repair_order_fts, rowid, own, cust)
        SELECT 'delete', o.id, o.search_text || {END}, old.search_text || {END}
        FROM orders_repair_order o WHERE o.customer_id = old.id;
    INSERT INTO orders_repair_order_fts(rowid, own, cust)
        SELECT o.id, o.search_text || {END}, new.search_text || {END}
        FROM orders_repair_order o WHERE o.customer_id = new.id;
END""",
    "orders_repair_order_fts_ai": f"""
CREATE TRIGGER orders_repair_order_fts_ai AFTER INSERT ON orders_repair_order BEGIN
    INSERT INTO orders_repair_order_fts(rowid, own, cust)
        VALUES (new.id, new.search_text || {END}, {_CUSTOMER_OF.format("new")});
END""",
    "orders_repair_order_fts_ad": f"""
CREATE TRIGGER orders_repair_order_fts_ad AFTER DELETE ON orders_repair_order BEGIN
    INSERT INTO orders_repair_order_fts(orders_repair_order_fts, rowid, own, cust)
        VALUES ('delete', old.id, old.search_text || {END}, {_CUSTOMER_OF.format("old")});
END""",
    "orders_repair_order_fts_au": f"""
CREATE TRIGGER orders_repair_order_fts_au AFTER UPDATE OF id, search_text, customer_id ON orders_repair_order
BEGIN
    INSERT INTO orders_repair_order_fts(orders_repair_order_fts, rowid, own, cust)
        VALUES ('delete', old.id, old.search_text || {END}, {_CUSTOMER_OF.format("old")});
    INSERT INTO orders_repair_order_fts(rowid, own, cust)
        VALUES (new.id, new.search_text || {END}, {_CUSTOMER_OF.format("new")});
END""",
}

VIRTUAL_TABLES = ("orders_repair_order_fts_terms", "orders_repair_order_fts",
                  "customers_customer_fts_terms", "customers_customer_fts")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def create_triggers():
    for name, ddl in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(ddl)


def upgrade():
    if not _sqlite():
        return
    for statement in TABLES.split(";"):
        if statement.strip():
            op.execute(statement)
    create_triggers()


def downgrade():
    if not _sqlite():
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for name in VIRTUAL_TABLES:
        op.execute(f"DROP TABLE IF EXISTS {name}")
