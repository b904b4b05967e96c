"""Quote approval: a version counter on each repair order (moves on with every line added or removed), the
status an approved quote moves the order to, and one recorded decision per order and quote version.

Revision ID: 0011_quote_approval
Revises: 0010_feedback
Create Date: 2026-12-03 07:16:11.276194

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_quote_approval'
down_revision = '0010_feedback'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('orders_quote_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('quote_version', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.Column('total_minor', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.CheckConstraint("decision IN ('approved', 'declined')", name=op.f('ck_orders_quote_decision_decision_known')),
    sa.CheckConstraint("via IN ('link', 'phone')", name=op.f('ck_orders_quote_decision_via_known')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['auth_staff.id'], name=op.f('fk_orders_quote_decision_decided_by_id_auth_staff')),
    sa.ForeignKeyConstraint(['order_id'], ['orders_repair_order.id'], name=op.f('fk_orders_quote_decision_order_id_orders_repair_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_quote_decision')),
    sa.UniqueConstraint('order_id', 'quote_version', name=op.f('uq_orders_quote_decision_order_id'))
    )
    with op.batch_alter_table('orders_repair_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quote_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('approval_target', sa.String(length=20), nullable=True))



def downgrade():
    with op.batch_alter_table('orders_repair_order', schema=None) as batch_op:
        batch_op.drop_column('approval_target')
        batch_op.drop_column('quote_version')

    op.drop_table('orders_quote_decision')
