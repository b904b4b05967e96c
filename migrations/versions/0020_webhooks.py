"""webhooks: the endpoints the manager registers and the deliveries queued for them

Revision ID: 0020_webhooks
Revises: 0019_enrolled_by
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_webhooks'
down_revision = '0019_enrolled_by'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhooks_endpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('description', sa.String(length=120), nullable=False),
    sa.Column('events', sa.String(length=300), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('secret_created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['auth_staff.id'], name=op.f('fk_webhooks_endpoint_created_by_id_auth_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks_endpoint'))
    )
    op.create_table('webhooks_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_webhooks_delivery_status_known')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_webhooks_delivery_attempts_not_negative')),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhooks_endpoint.id'], name=op.f('fk_webhooks_delivery_endpoint_id_webhooks_endpoint'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks_delivery')),
    sa.UniqueConstraint('endpoint_id', 'event_id', name='one_per_endpoint_and_event')
    )
    op.create_index('ix_webhooks_delivery_due', 'webhooks_delivery', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_webhooks_delivery_endpoint', 'webhooks_delivery', ['endpoint_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_webhooks_delivery_endpoint', table_name='webhooks_delivery')
    op.drop_index('ix_webhooks_delivery_due', table_name='webhooks_delivery')
    op.drop_table('webhooks_delivery')
    op.drop_table('webhooks_endpoint')
