"""the order text search on PostgreSQL without a join: each order keeps its customer's search text

Revision ID: 0022_pg_order_customer_text
Revises: 0021_api_actor
Create Date: 2026-12-04

PostgreSQL only (SQLite's FTS5 index of 0014 already holds the customer's text with each order). The order
list's text filter matches the order's own search_text or its customer's; found through the customers'
trigram index it joined every order of every matching customer, or walked the newest orders looking each
customer up (10-25 ms at 100k for a fragment held by a few hundred customers). Now:

- orders_repair_order.customer_search_text: a copy of the customer's search_text, kept by triggers (never
  written by the application, not in the ORM model: crm.search_index.is_search_index_object), with a
  trigram GIN index of its own, so "own text or customer's text" is a BitmapOr of two indexes on one table.
- BEFORE INSERT or UPDATE OF customer_id on orders: the column is read from the customer.
- AFTER UPDATE OF search_text on customers: the customer's orders get the new text (erasure empties it).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022_pg_order_customer_text'
down_revision = '0021_api_actor'
branch_labels = None
depends_on = None

COLUMN = "customer_search_text"
INDEX = "ix_orders_repair_order_customer_search_text_trgm"
TRIGGERS = {
    "orders_repair_order_customer_text": "orders_repair_order",
    "customers_customer_text_to_orders": "customers_customer",
}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _postgresql():
        return
    op.execute(f"ALTER TABLE orders_repair_order ADD COLUMN {COLUMN} varchar(400) NOT NULL DEFAULT ''")
    op.execute(f"UPDATE orders_repair_order o SET {COLUMN} = c.search_text "
               f"FROM customers_customer c WHERE c.id = o.customer_id")
    op.execute(f"CREATE INDEX {INDEX} ON orders_repair_order USING gin ({COLUMN} gin_trgm_ops)")
    # The planner needs the new column's statistics at once: without them it took a no-match search for a common
    # one and walked all the orders (155 ms at 100k) until autovacuum came by.
    op.execute("ANALYZE orders_repair_order")
    op.execute(f"""
CREATE FUNCTION orders_repair_order_customer_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.{COLUMN} := COALESCE((SELECT c.search_text FROM customers_customer c WHERE c.id = NEW.customer_id), '');
    RETURN NEW;
END $$""")
    op.execute("""
CREATE TRIGGER orders_repair_order_customer_text BEFORE INSERT OR UPDATE OF customer_id ON orders_repair_order
FOR EACH ROW EXECUTE FUNCTION orders_repair_order_customer_text()""")
    op.execute(f"""
CREATE FUNCTION customers_customer_text_to_orders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE orders_repair_order SET {COLUMN} = NEW.search_text
     WHERE customer_id = NEW.id AND {COLUMN} IS DISTINCT FROM NEW.search_text;
    RETURN NULL;
END $$""")
    op.execute("""
CREATE TRIGGER customers_customer_text_to_orders AFTER UPDATE OF search_text ON customers_customer
FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text)
EXECUTE FUNCTION customers_customer_text_to_orders()""")


def downgrade():
    if not _postgresql():
        return
    for trigger, table in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {trigger}()")
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
    op.execute(f"ALTER TABLE orders_repair_order DROP COLUMN IF EXISTS {COLUMN}")
