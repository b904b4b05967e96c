"""One-time Telegram start codes: each receipt's /start link carries a random code that links one chat,
expires, and needs the linked chat's confirmation to move the messages to another chat.

Revision ID: 0007_telegram_codes
Revises: 0006_login_failures
Create Date: 2026-12-01

The codes of the first version (the customer id and an HMAC of it, never stored) stop working: they
never expired and could be used again by anyone who saw a receipt. Chats already linked stay linked.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_telegram_codes'
down_revision = '0006_login_failures'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('customers_telegram_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('chat_id', sa.String(length=32), nullable=True),
    sa.Column('confirm_code', sa.String(length=16), nullable=True),
    sa.Column('confirm_until', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('active', 'linked', 'awaiting_confirmation', 'confirmed', 'revoked')", name=op.f('ck_customers_telegram_code_state_known')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers_customer.id'], name=op.f('fk_customers_telegram_code_customer_id_customers_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers_telegram_code')),
    sa.UniqueConstraint('code', name=op.f('uq_customers_telegram_code_code')),
    sa.UniqueConstraint('confirm_code', name=op.f('uq_customers_telegram_code_confirm_code'))
    )
    with op.batch_alter_table('customers_telegram_code', schema=None) as batch_op:
        batch_op.create_index('ix_customers_telegram_code_customer_state', ['customer_id', 'state'], unique=False)


def downgrade():
    with op.batch_alter_table('customers_telegram_code', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_telegram_code_customer_state')

    op.drop_table('customers_telegram_code')
