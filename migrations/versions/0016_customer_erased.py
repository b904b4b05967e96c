"""when a customer's personal data was erased (their links stop working)

Revision ID: 0016_customer_erased
Revises: 0015_consent_audit
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_customer_erased'
down_revision = '0015_consent_audit'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: on SQLite a batch copy of customers_customer would break the search index's
# triggers (migration 0014), and SQLite (3.35+) adds and drops a plain column in place.
def upgrade():
    op.add_column('customers_customer', sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE customers_customer DROP COLUMN erased_at')
    else:
        op.drop_column('customers_customer', 'erased_at')
