"""Device-lifecycle reminders: the kind of repair on every order, the warranty reminder's settings and
the check-up reminder's settings per kind of repair.

Revision ID: 0009_device_lifecycle
Revises: 0008_loyalty_program_row
Create Date: 2026-12-05

Existing orders get the kind "" (not known), which no check-up reminder selects.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_device_lifecycle'
down_revision = '0008_loyalty_program_row'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders_repair_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('repair_kind', sa.String(length=20), server_default='', nullable=False))
        batch_op.create_index('ix_orders_repair_order_status_closed_at', ['status', 'closed_at'], unique=False)

    op.create_table('orders_reminder_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warranty_enabled', sa.Boolean(), nullable=False),
    sa.Column('warranty_days_before', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('warranty_days_before BETWEEN 1 AND 365', name=op.f('ck_orders_reminder_settings_days_before_in_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_reminder_settings'))
    )
    op.create_table('orders_checkup_rule',
    sa.Column('repair_kind', sa.String(length=20), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('coupon_template_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('months BETWEEN 1 AND 60', name=op.f('ck_orders_checkup_rule_months_in_range')),
    sa.ForeignKeyConstraint(['coupon_template_id'], ['loyalty_coupon_template.id'], name=op.f('fk_orders_checkup_rule_coupon_template_id_loyalty_coupon_template')),
    sa.PrimaryKeyConstraint('repair_kind', name=op.f('pk_orders_checkup_rule'))
    )


def downgrade():
    op.drop_table('orders_checkup_rule')
    op.drop_table('orders_reminder_settings')
    with op.batch_alter_table('orders_repair_order', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_repair_order_status_closed_at')
        batch_op.drop_column('repair_kind')
