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


def upgrade():
    with op.batch_alter_table('customers_customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('customers_customer', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
