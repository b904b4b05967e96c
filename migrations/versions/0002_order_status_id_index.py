"""order list index by status and id

Revision ID: 0002_order_status_id
Revises: 0001_spine
Create Date: 2026-11-23 00:59:25.093338

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_order_status_id'
down_revision = '0001_spine'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders_repair_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_repair_order_status_due'))
        batch_op.create_index('ix_orders_repair_order_status_id', ['status', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('orders_repair_order', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_repair_order_status_id')
        batch_op.create_index(batch_op.f('ix_orders_repair_order_status_due'), ['status', 'due_date'], unique=False)

