"""the loyalty program's settings row exists from the start (id 1, the defaults)

Revision ID: 0008_loyalty_program_row
Revises: 0007_telegram_codes
Create Date: 2026-12-03

Before, the row was created when a manager first saved the settings, and until then every reading of the
settings (several in one checkout) asked the database for a row that was not there. With the row in place the
session's identity map answers all but the first. A shop that already saved its settings keeps them.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_loyalty_program_row'
down_revision = '0007_telegram_codes'
branch_labels = None
depends_on = None

# The defaults of crm.loyalty.program.PROGRAM_DEFAULTS on this date (a migration does not import app code).
DEFAULTS = {
    "enabled": True, "enrolment": "automatic", "point_value_minor": 100, "redeem_cap_bp": 3000,
    "min_balance_to_redeem": 0, "redeem_categories": "repair_labour,repair_part,accessory,service",
    "expiry_months": 12, "expiry_warning_days": 14, "welcome_bonus": 50, "birthday_bonus": 100,
    "anniversary_bonus": 100, "referral_bonus": 100, "referee_bonus": 50, "tier_window_months": 12,
    "repair_coupon_template_id": None,
}


def upgrade():
    program = sa.table("loyalty_program", sa.column("id", sa.Integer), sa.column("updated_at", sa.DateTime),
                       *(sa.column(name) for name in DEFAULTS))
    exists = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM loyalty_program WHERE id = 1")).scalar()
    if not exists:
        op.bulk_insert(program, [{"id": 1, "updated_at": datetime.now(timezone.utc), **DEFAULTS}])


def downgrade():
    pass  # the row is the settings a shop may have changed since: keep it
