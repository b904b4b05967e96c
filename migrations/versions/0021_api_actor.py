"""each API token acts as a staff row of its own (auth_staff.is_api_actor, api_token.actor_id)

The services record who changed an order's status, who wrote a ledger entry, who took a part from stock: an API
token needs such a row. One is made for every existing token, named after it, with the token's role (a read-only
token: technician, the narrowest; it is never let near a write), inactive and with no usable password.

Plain ADD COLUMNs (no batch copy of a table): api_token's rows keep their idempotency answers (ON DELETE CASCADE
would empty them when SQLite's batch mode drops the old table).

Revision ID: 0021_api_actor
Revises: 0020_webhooks
Create Date: 2026-12-03
"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_api_actor'
down_revision = "0020_webhooks"
branch_labels = None
depends_on = None

STAFF_ROLE = {'read_only': 'technician', 'technician': 'technician', 'front_desk': 'front_desk',
              'manager': 'manager'}
NO_PASSWORD = '!api-actor: no login'  # not a hash: no password verifies against it

staff = sa.table('auth_staff', sa.column('id', sa.Integer), sa.column('username', sa.String),
                 sa.column('full_name', sa.String), sa.column('role', sa.String),
                 sa.column('password_hash', sa.String), sa.column('is_active_account', sa.Boolean),
                 sa.column('session_token', sa.String), sa.column('failed_logins', sa.Integer),
                 sa.column('commission_basis_points', sa.Integer), sa.column('created_at', sa.DateTime(timezone=True)),
                 sa.column('is_api_actor', sa.Boolean))
token = sa.table('api_token', sa.column('id', sa.Integer), sa.column('name', sa.String),
                 sa.column('role', sa.String), sa.column('created_at', sa.DateTime(timezone=True)),
                 sa.column('actor_id', sa.Integer))


def upgrade():
    op.add_column('auth_staff', sa.Column('is_api_actor', sa.Boolean(), nullable=False, server_default=sa.false()))
    actor = sa.Column('actor_id', sa.Integer(), sa.ForeignKey('auth_staff.id',
                                                              name='fk_api_token_actor_id_auth_staff'), nullable=True)
    if op.get_bind().dialect.name == 'sqlite':  # no ALTER ... ADD CONSTRAINT: the reference goes with the column
        op.add_column('api_token', actor, inline_references=True)
    else:
        op.add_column('api_token', sa.Column('actor_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_api_token_actor_id_auth_staff', 'api_token', 'auth_staff', ['actor_id'], ['id'])
    op.create_index('ix_api_token_actor_id', 'api_token', ['actor_id'], unique=True)
    connection = op.get_bind()
    for row in connection.execute(sa.select(token.c.id, token.c.name, token.c.role, token.c.created_at)).all():
        actor_id = connection.execute(staff.insert().values(
            username=f'api-token:{row.id}', full_name=row.name, role=STAFF_ROLE.get(row.role, 'technician'),
            password_hash=NO_PASSWORD, is_active_account=False, session_token=secrets.token_urlsafe(32),
            failed_logins=0, commission_basis_points=0, created_at=row.created_at, is_api_actor=True,
        ).returning(staff.c.id)).scalar_one()
        connection.execute(token.update().where(token.c.id == row.id).values(actor_id=actor_id))


def downgrade():
    # The actors' staff rows stay (status changes and ledger entries name them), as inactive accounts.
    op.drop_index('ix_api_token_actor_id', table_name='api_token')
    if op.get_bind().dialect.name == 'sqlite':  # a copy of api_token: the stored idempotency answers are dropped
        with op.batch_alter_table('api_token', schema=None) as batch_op:
            batch_op.drop_column('actor_id')
    else:
        op.drop_constraint('fk_api_token_actor_id_auth_staff', 'api_token', type_='foreignkey')
        op.drop_column('api_token', 'actor_id')
    op.drop_column('auth_staff', 'is_api_actor')
