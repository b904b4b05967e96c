"""staff, customers and repair orders

Revision ID: 0001_spine
Revises: 
Create Date: 2026-11-23 00:06:59.903124

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001_spine'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # Trigram indexes answer LIKE '%fragment%' searches (trusted extension: the DB owner may create it).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('auth_staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('is_active_account', sa.Boolean(), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('technician', 'front_desk', 'manager')", name=op.f('ck_auth_staff_role_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_staff')),
    sa.UniqueConstraint('session_token', name=op.f('uq_auth_staff_session_token')),
    sa.UniqueConstraint('username', name=op.f('uq_auth_staff_username'))
    )
    op.create_table('customers_customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('birthday', sa.Date(), nullable=True),
    sa.Column('service_consent', sa.Boolean(), nullable=False),
    sa.Column('service_consent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('marketing_consent', sa.Boolean(), nullable=False),
    sa.Column('marketing_consent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('search_text', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers_customer')),
    sa.UniqueConstraint('phone', name=op.f('uq_customers_customer_phone'))
    )
    with op.batch_alter_table('customers_customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_customer_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_customers_customer_search_text_trgm', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})

    op.create_table('orders_number_counter',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_orders_number_counter'))
    )
    op.create_table('orders_repair_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('device_type', sa.String(length=20), nullable=False),
    sa.Column('brand', sa.String(length=60), nullable=False),
    sa.Column('model', sa.String(length=80), nullable=False),
    sa.Column('serial_number', sa.String(length=64), nullable=False),
    sa.Column('imei', sa.String(length=15), nullable=False),
    sa.Column('condition', sa.Text(), nullable=False),
    sa.Column('accessories', sa.String(length=500), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('estimate_minor', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('technician_id', sa.Integer(), nullable=True),
    sa.Column('warranty_days', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('tracking_token', sa.String(length=64), nullable=False),
    sa.Column('search_text', sa.String(length=400), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('estimate_minor IS NULL OR estimate_minor >= 0', name=op.f('ck_orders_repair_order_estimate_not_negative')),
    sa.CheckConstraint('priority BETWEEN 0 AND 2', name=op.f('ck_orders_repair_order_priority_known')),
    sa.CheckConstraint('warranty_days >= 0', name=op.f('ck_orders_repair_order_warranty_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['auth_staff.id'], name=op.f('fk_orders_repair_order_created_by_id_auth_staff')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers_customer.id'], name=op.f('fk_orders_repair_order_customer_id_customers_customer')),
    sa.ForeignKeyConstraint(['technician_id'], ['auth_staff.id'], name=op.f('fk_orders_repair_order_technician_id_auth_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_repair_order')),
    sa.UniqueConstraint('number', name=op.f('uq_orders_repair_order_number')),
    sa.UniqueConstraint('tracking_token', name=op.f('uq_orders_repair_order_tracking_token'))
    )
    with op.batch_alter_table('orders_repair_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_repair_order_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_repair_order_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_orders_repair_order_search_text_trgm', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
        batch_op.create_index('ix_orders_repair_order_status_due', ['status', 'due_date'], unique=False)
        batch_op.create_index('ix_orders_repair_order_technician_status', ['technician_id', 'status'], unique=False)

    op.create_table('orders_repair_order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_minor', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('labour', 'part')", name=op.f('ck_orders_repair_order_line_kind_known')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_orders_repair_order_line_quantity_positive')),
    sa.CheckConstraint('unit_price_minor >= 0', name=op.f('ck_orders_repair_order_line_price_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['auth_staff.id'], name=op.f('fk_orders_repair_order_line_created_by_id_auth_staff')),
    sa.ForeignKeyConstraint(['order_id'], ['orders_repair_order.id'], name=op.f('fk_orders_repair_order_line_order_id_orders_repair_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_repair_order_line'))
    )
    with op.batch_alter_table('orders_repair_order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_repair_order_line_order_id'), ['order_id'], unique=False)

    op.create_table('orders_status_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['auth_staff.id'], name=op.f('fk_orders_status_change_changed_by_id_auth_staff')),
    sa.ForeignKeyConstraint(['order_id'], ['orders_repair_order.id'], name=op.f('fk_orders_status_change_order_id_orders_repair_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_status_change'))
    )
    with op.batch_alter_table('orders_status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_status_change_order_id'), ['order_id'], unique=False)



def downgrade():
    with op.batch_alter_table('orders_status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_status_change_order_id'))

    op.drop_table('orders_status_change')
    with op.batch_alter_table('orders_repair_order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_repair_order_line_order_id'))

    op.drop_table('orders_repair_order_line')
    with op.batch_alter_table('orders_repair_order', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_repair_order_technician_status')
        batch_op.drop_index('ix_orders_repair_order_status_due')
        batch_op.drop_index('ix_orders_repair_order_search_text_trgm', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
        batch_op.drop_index(batch_op.f('ix_orders_repair_order_customer_id'))
        batch_op.drop_index(batch_op.f('ix_orders_repair_order_created_at'))

    op.drop_table('orders_repair_order')
    op.drop_table('orders_number_counter')
    with op.batch_alter_table('customers_customer', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_customer_search_text_trgm', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
        batch_op.drop_index(batch_op.f('ix_customers_customer_created_at'))

    op.drop_table('customers_customer')
    op.drop_table('auth_staff')
