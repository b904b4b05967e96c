"""the consent history (customers_consent_change); the change log becomes the one audit log (area, action)

Revision ID: 0015_consent_audit
Revises: 0014_search_index
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_consent_audit'
down_revision = '0014_search_index'
branch_labels = None
depends_on = None

# The area of the rows written before this migration, from their subject's first part (crm.audit._AREA_OF_SUBJECT).
_AREAS = {'staff': 'staff', 'message_template': 'notifications', 'reminders': 'reminders', 'checkup': 'reminders',
          'customer': 'privacy', 'customers': 'privacy'}


# Append-only: the database itself refuses to change or remove an audit row. A later migration that rebuilds the
# table on SQLite (batch_alter_table "move and copy") drops these triggers and must create them again.
_REFUSAL = "the audit log is append-only"
_SQLITE_TRIGGERS = {
    'loyalty_audit_no_update': f"CREATE TRIGGER loyalty_audit_no_update BEFORE UPDATE ON loyalty_audit "
                               f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END",
    'loyalty_audit_no_delete': f"CREATE TRIGGER loyalty_audit_no_delete BEFORE DELETE ON loyalty_audit "
                               f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END",
}
_PG_FUNCTION = ("CREATE FUNCTION loyalty_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN RAISE EXCEPTION '{_REFUSAL}'; END $$")
_PG_TRIGGER = ("CREATE TRIGGER loyalty_audit_append_only BEFORE UPDATE OR DELETE ON loyalty_audit "
               "FOR EACH ROW EXECUTE FUNCTION loyalty_audit_append_only()")


def _create_triggers():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    elif dialect == 'sqlite':
        for statement in _SQLITE_TRIGGERS.values():
            op.execute(statement)


def _drop_triggers():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS loyalty_audit_append_only ON loyalty_audit")
        op.execute("DROP FUNCTION IF EXISTS loyalty_audit_append_only()")
    elif dialect == 'sqlite':
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade():
    op.create_table('customers_consent_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('consent', sa.String(length=40), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('desk', 'unsubscribe_link', 'telegram', 'api', 'erasure')",
                       name=op.f('ck_customers_consent_change_source_known')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['auth_staff.id'],
                            name=op.f('fk_customers_consent_change_changed_by_id_auth_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers_customer.id'],
                            name=op.f('fk_customers_consent_change_customer_id_customers_customer'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers_consent_change'))
    )
    with op.batch_alter_table('customers_consent_change', schema=None) as batch_op:
        batch_op.create_index('ix_customers_consent_change_customer_id_id', ['customer_id', 'id'], unique=False)

    with op.batch_alter_table('loyalty_audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area', sa.String(length=20), server_default='loyalty', nullable=False))
        batch_op.add_column(sa.Column('action', sa.String(length=40), server_default='change', nullable=False))
        batch_op.create_index('ix_loyalty_audit_area_created_at', ['area', 'created_at'], unique=False)
        batch_op.create_index('ix_loyalty_audit_actor_id_created_at', ['actor_id', 'created_at'], unique=False)
    audit = sa.table('loyalty_audit', sa.column('area', sa.String), sa.column('subject', sa.String))
    for prefix, area in _AREAS.items():
        op.execute(audit.update().where(sa.or_(audit.c.subject == prefix, audit.c.subject.like(prefix + ':%')))
                   .values(area=area))
    _create_triggers()


def downgrade():
    _drop_triggers()
    with op.batch_alter_table('loyalty_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_audit_actor_id_created_at')
        batch_op.drop_index('ix_loyalty_audit_area_created_at')
        batch_op.drop_column('action')
        batch_op.drop_column('area')

    with op.batch_alter_table('customers_consent_change', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_consent_change_customer_id_id')

    op.drop_table('customers_consent_change')
