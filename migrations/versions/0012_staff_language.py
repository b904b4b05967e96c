"""each staff member's interface language

Revision ID: 0012_staff_language
Revises: 0011_quote_approval
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_staff_language'
down_revision = '0011_quote_approval'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('auth_staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('auth_staff', schema=None) as batch_op:
        batch_op.drop_column('language')
