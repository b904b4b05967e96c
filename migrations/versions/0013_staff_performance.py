"""staff performance: an order's warranty return link, a staff member's commission rate

Revision ID: 0013_staff_performance
Revises: 0012_staff_language
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_staff_performance'
down_revision = '0012_staff_language'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders_repair_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warranty_of_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_orders_repair_order_warranty_of_id'), ['warranty_of_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_orders_repair_order_warranty_of_id_orders_repair_order'),
                                    'orders_repair_order', ['warranty_of_id'], ['id'])
    with op.batch_alter_table('auth_staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('commission_basis_points', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_auth_staff_commission_in_range'),
                                         'commission_basis_points BETWEEN 0 AND 10000')


def downgrade():
    with op.batch_alter_table('auth_staff', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_auth_staff_commission_in_range'), type_='check')
        batch_op.drop_column('commission_basis_points')
    with op.batch_alter_table('orders_repair_order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_orders_repair_order_warranty_of_id_orders_repair_order'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_orders_repair_order_warranty_of_id'))
        batch_op.drop_column('warranty_of_id')
