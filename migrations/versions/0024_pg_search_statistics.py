"""finer statistics of the search texts on PostgreSQL, so the planner knows how common a fragment is

Revision ID: 0024_pg_search_statistics
Revises: 0023_pg_short_fragments
Create Date: 2026-12-04

PostgreSQL only. PostgreSQL estimates how many rows `search_text LIKE '%0501%'` matches by trying the pattern on
the column's histogram; with the default 100 entries a fragment held by 1 % of the customers is usually in none
of them, and the estimate falls back to a guess of 0.01 %. At 1M customers it then read all 8,650 matches
through the trigram index and sorted them (21 ms) instead of walking the newest customers until the page was full
(0.7 ms). 1,000 entries for the three search texts (customers, orders, the orders' copy of their customer's
text); ANALYZE reads 300,000 rows a table for them (20-40 s at 1M customers).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024_pg_search_statistics'
down_revision = '0023_pg_short_fragments'
branch_labels = None
depends_on = None

COLUMNS = {"customers_customer": ("search_text",), "orders_repair_order": ("search_text", "customer_search_text")}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _set(target: int) -> None:
    for table, columns in COLUMNS.items():
        op.execute(f"ALTER TABLE {table} " + ", ".join(f"ALTER COLUMN {c} SET STATISTICS {target}" for c in columns))
        op.execute(f"ANALYZE {table}")


def upgrade():
    if _postgresql():
        _set(1000)


def downgrade():
    if _postgresql():
        _set(-1)  # the server's default_statistics_target again
