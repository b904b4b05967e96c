"""Feedback: one rating (1-5) per repair order with an optional comment, and the manager's follow-up of low ones.

Revision ID: 0010_feedback
Revises: 0009_device_lifecycle
Create Date: 2026-12-10
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_feedback'
down_revision = '0009_device_lifecycle'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('follow_up', sa.String(length=10), nullable=False),
    sa.Column('follow_up_note', sa.String(length=2000), nullable=False),
    sa.Column('followed_up_by_id', sa.Integer(), nullable=True),
    sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_feedback_feedback_rating_in_range')),
    sa.CheckConstraint("follow_up IN ('none', 'open', 'done')", name=op.f('ck_feedback_feedback_follow_up_known')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers_customer.id'], name=op.f('fk_feedback_feedback_customer_id_customers_customer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['followed_up_by_id'], ['auth_staff.id'], name=op.f('fk_feedback_feedback_followed_up_by_id_auth_staff')),
    sa.ForeignKeyConstraint(['order_id'], ['orders_repair_order.id'], name=op.f('fk_feedback_feedback_order_id_orders_repair_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_feedback')),
    sa.UniqueConstraint('order_id', name=op.f('uq_feedback_feedback_order_id'))
    )
    with op.batch_alter_table('feedback_feedback', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_feedback_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_feedback_feedback_customer_id', ['customer_id'], unique=False)
        batch_op.create_index('ix_feedback_feedback_follow_up', ['follow_up', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('feedback_feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_feedback_follow_up')
        batch_op.drop_index('ix_feedback_feedback_customer_id')
        batch_op.drop_index('ix_feedback_feedback_created_at')

    op.drop_table('feedback_feedback')
