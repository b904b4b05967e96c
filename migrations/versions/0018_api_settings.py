"""the API settings row: the websites allowed to use the repair-status widget

Revision ID: 0018_api_settings
Revises: 0017_api_tokens
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_api_settings'
down_revision = '0017_api_tokens'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('widget_origins', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_api_settings_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_settings'))
    )


def downgrade():
    op.drop_table('api_settings')
