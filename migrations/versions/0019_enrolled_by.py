"""who enrolled each loyalty member (the desk's "members enrolled" figure)

Revision ID: 0019_enrolled_by
Revises: 0018_api_settings
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_enrolled_by'
down_revision = '0018_api_settings'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('loyalty_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enrolled_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_loyalty_account_enrolled_by_id_auth_staff'), 'auth_staff',
                                    ['enrolled_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('loyalty_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_loyalty_account_enrolled_by_id_auth_staff'), type_='foreignkey')
        batch_op.drop_column('enrolled_by_id')
