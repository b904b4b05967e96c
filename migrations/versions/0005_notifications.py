"""Notifications: the outbox, template overrides and settings; the customer's channel, language and
Telegram link; month-day columns for the birthday and anniversary jobs.

Revision ID: 0005_notifications
Revises: 0004_loyalty
Create Date: 2026-11-23

Only ADD COLUMN and CREATE INDEX touch existing tables, so SQLite's batch mode never recreates
customers_customer (a recreate with foreign keys on would cascade to every table pointing at it).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_notifications'
down_revision = '0004_loyalty'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notifications_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notify_statuses', sa.String(length=300), nullable=False),
    sa.Column('quiet_start_minute', sa.Integer(), nullable=False),
    sa.Column('quiet_end_minute', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('catch_up_days', sa.Integer(), nullable=False),
    sa.Column('telegram_update_offset', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_notifications_settings_single_row')),
    sa.CheckConstraint('max_attempts BETWEEN 1 AND 20 AND catch_up_days BETWEEN 0 AND 60', name=op.f('ck_notifications_settings_limits_in_range')),
    sa.CheckConstraint('quiet_start_minute BETWEEN 0 AND 1439 AND quiet_end_minute BETWEEN 0 AND 1439', name=op.f('ck_notifications_settings_quiet_hours_in_day')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications_settings'))
    )
    op.create_table('notifications_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=120), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('unsubscribe_url', sa.String(length=500), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('provider_id', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('service', 'marketing')", name=op.f('ck_notifications_outbox_kind_known')),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'skipped')", name=op.f('ck_notifications_outbox_status_known')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_notifications_outbox_attempts_not_negative')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers_customer.id'], name=op.f('fk_notifications_outbox_customer_id_customers_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_outbox_dedupe_key'))
    )
    with op.batch_alter_table('notifications_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_outbox_customer', ['customer_id', 'id'], unique=False)
        batch_op.create_index('ix_notifications_outbox_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('notifications_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['auth_staff.id'], name=op.f('fk_notifications_template_updated_by_id_auth_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications_template')),
    sa.UniqueConstraint('event', 'channel', 'language', name='one_per_event_channel_language')
    )
    with op.batch_alter_table('customers_customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birthday_mmdd', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('preferred_channel', sa.String(length=16), server_default='auto', nullable=False))
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('telegram_chat_id', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_customers_customer_birthday_mmdd'), ['birthday_mmdd'], unique=False)

    with op.batch_alter_table('loyalty_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_purchase_mmdd', sa.SmallInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_loyalty_account_first_purchase_mmdd'), ['first_purchase_mmdd'], unique=False)

    # Fill the month-day columns for existing rows (first purchases by their UTC date: close enough for
    # rows older than this migration; new ones use the shop's time zone).
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE customers_customer SET birthday_mmdd = CAST(strftime('%m%d', birthday) AS INTEGER) "
                   "WHERE birthday IS NOT NULL")
        op.execute("UPDATE loyalty_account SET first_purchase_mmdd = CAST(strftime('%m%d', first_purchase_at) "
                   "AS INTEGER) WHERE first_purchase_at IS NOT NULL")
    else:
        op.execute("UPDATE customers_customer SET birthday_mmdd = "
                   "EXTRACT(MONTH FROM birthday) * 100 + EXTRACT(DAY FROM birthday) WHERE birthday IS NOT NULL")
        op.execute("UPDATE loyalty_account SET first_purchase_mmdd = EXTRACT(MONTH FROM first_purchase_at "
                   "AT TIME ZONE 'UTC') * 100 + EXTRACT(DAY FROM first_purchase_at AT TIME ZONE 'UTC') "
                   "WHERE first_purchase_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('loyalty_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loyalty_account_first_purchase_mmdd'))
        batch_op.drop_column('first_purchase_mmdd')

    with op.batch_alter_table('customers_customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_customer_birthday_mmdd'))
        batch_op.drop_column('telegram_chat_id')
        batch_op.drop_column('language')
        batch_op.drop_column('preferred_channel')
        batch_op.drop_column('birthday_mmdd')

    op.drop_table('notifications_template')
    with op.batch_alter_table('notifications_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_outbox_due')
        batch_op.drop_index('ix_notifications_outbox_customer')

    op.drop_table('notifications_outbox')
    op.drop_table('notifications_settings')
