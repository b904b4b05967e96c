"""one- and two-character searches on PostgreSQL from an index: every character and pair of characters of a text

Revision ID: 0023_pg_short_fragments
Revises: 0022_pg_order_customer_text
Create Date: 2026-12-04

PostgreSQL only (SQLite's FTS5 index of 0014 answers short fragments from its vocabulary). pg_trgm cannot use
its trigram index for a pattern of fewer than three characters, so a rare one- or two-character fragment (`q`,
`ț`) read every customer (~30 ms at 100k) or every order (~60 ms). Now:

- crm_short_grams(text): the text's characters and pairs of adjacent characters, as an array (IMMUTABLE, so it
  can be indexed). A fragment of one or two characters is in that array exactly when the text contains it.
- GIN indexes of it on customers_customer.search_text and on both texts of orders_repair_order (its own and the
  copy of its customer's, 0022): the search adds `crm_short_grams(text) @> ARRAY[fragment]` to its LIKE, and the
  planner reads the index for a rare fragment, the primary key backwards for a common one (ANALYZE gathers the
  expressions' statistics for that choice).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023_pg_short_fragments'
down_revision = '0022_pg_order_customer_text'
branch_labels = None
depends_on = None

FUNCTION = "crm_short_grams"
INDEXES = {
    "ix_customers_customer_search_text_short": ("customers_customer", "search_text"),
    "ix_orders_repair_order_search_text_short": ("orders_repair_order", "search_text"),
    "ix_orders_repair_order_customer_search_text_short": ("orders_repair_order", "customer_search_text"),
}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _postgresql():
        return
    # regexp_split_to_array is C and fast; the pairs come from one substr per position. Duplicates are left in:
    # the GIN index keeps each key once. Its default cost (100) keeps it after the cheap LIKE in a filter.
    op.execute(f"""
CREATE FUNCTION {FUNCTION}(t text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_split_to_array(t, '') || ARRAY(SELECT substr(t, i, 2) FROM generate_series(1, length(t) - 1) AS i)
$$""")
    for index, (table, column) in INDEXES.items():
        op.execute(f"CREATE INDEX {index} ON {table} USING gin ({FUNCTION}({column}))")
    op.execute("ANALYZE customers_customer")
    op.execute("ANALYZE orders_repair_order")


def downgrade():
    if not _postgresql():
        return
    for index in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {index}")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}(text)")
