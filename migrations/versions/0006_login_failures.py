"""failed logins per client address (the login limit shared by every worker)

Revision ID: 0006_login_failures
Revises: 0005_notifications
Create Date: 2026-11-24

A new table only: nothing existing is altered, so SQLite's batch mode recreates nothing.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_login_failures'
down_revision = '0005_notifications'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('auth_login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['auth_staff.id'], name=op.f('fk_auth_login_failure_staff_id_auth_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_login_failure'))
    )
    with op.batch_alter_table('auth_login_failure', schema=None) as batch_op:
        batch_op.create_index('ix_auth_login_failure_address_failed_at', ['address', 'failed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_auth_login_failure_failed_at'), ['failed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('auth_login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_login_failure_failed_at'))
        batch_op.drop_index('ix_auth_login_failure_address_failed_at')

    op.drop_table('auth_login_failure')
