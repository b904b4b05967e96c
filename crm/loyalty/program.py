"""The program's settings, earn rates and tiers: read with defaults, changed only with an audit line.

The settings row is created on the first save; until then every reader gets the defaults below, so
a fresh database (or a test that emptied the tables) behaves like a shop that never changed them."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, select, true
from sqlalchemy.orm import Session

from crm.audit import record_change
from crm.auth.models import StaffUser
from crm.database import utcnow
from crm.locales import lazy_gettext as _l
from crm.loyalty.ledger import LoyaltyError
from crm.loyalty.models import EarnRate, Program, Tier

PROGRAM_DEFAULTS = {
    "enabled": True,
    "enrolment": "automatic",
    "point_value_minor": 100,
    "redeem_cap_bp": 3000,
    "min_balance_to_redeem": 0,
    "redeem_categories": "repair_labour,repair_part,accessory,service",
    "expiry_months": 12,
    "expiry_warning_days": 14,
    "welcome_bonus": 50,
    "birthday_bonus": 100,
    "anniversary_bonus": 100,
    "referral_bonus": 100,
    "referee_bonus": 50,
    "tier_window_months": 12,
    "repair_coupon_template_id": None,
}

# Basis points of the money paid on a line that come back as points (500 = 5%).
DEFAULT_EARN_RATES = {"repair_labour": 500, "repair_part": 0, "accessory": 300, "spare_part": 0, "service": 300}

# The tiers a new shop starts with (migration 0004 inserts the same rows).
DEFAULT_TIERS = (
    {"name": "Bronze", "rank": 1, "min_spend_minor": None, "min_repairs": None, "earn_multiplier_pct": 100,
     "accessory_discount_bp": 0, "free_diagnostics": False, "queue_priority": False},
    {"name": "Silver", "rank": 2, "min_spend_minor": 500_000, "min_repairs": 3, "earn_multiplier_pct": 125,
     "accessory_discount_bp": 500, "free_diagnostics": False, "queue_priority": False},
    {"name": "Gold", "rank": 3, "min_spend_minor": 1_500_000, "min_repairs": 6, "earn_multiplier_pct": 150,
     "accessory_discount_bp": 1000, "free_diagnostics": True, "queue_priority": True},
)


# The settings, tiers and earn rates are read once per transaction: a checkout asks for them from the cart's
# figures, the payment, the points earned and the tier upgrade. Kept in ``session.info`` for the transaction only
# (a commit or rollback forgets them, so the next request reads them fresh) and forgotten as soon as this session
# flushes a change to one of them.
_MEMO = "crm.loyalty.settings"
_SETTINGS_MODELS = (Program, Tier, EarnRate)


def _memo(session: Session) -> dict:
    return session.info.setdefault(_MEMO, {})


def forget_settings(session: Session) -> None:
    session.info.pop(_MEMO, None)


@event.listens_for(Session, "before_flush")
def _forget_changed_settings(session, _context, _instances):
    if any(isinstance(obj, _SETTINGS_MODELS) for obj in (*session.new, *session.dirty, *session.deleted)):
        forget_settings(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_transaction_end(session, transaction):
    if transaction.parent is None:  # the transaction itself ends, not a savepoint in it
        forget_settings(session)


def _load_program_and_tiers(session: Session, memo: dict, *, with_rates: bool = False) -> None:
    """One statement for all: every tier (by rank) with the settings row joined (NULL while never saved) and,
    ``with_rates``, every saved earn rate joined to each tier (a few rows more instead of a statement more)."""
    if with_rates:
        stmt = (select(Tier, Program, EarnRate).select_from(Tier).outerjoin(Program, Program.id == 1)
                .outerjoin(EarnRate, true()).order_by(Tier.rank, EarnRate.category_code))
    else:
        stmt = select(Tier, Program).outerjoin(Program, Program.id == 1).order_by(Tier.rank)
    rows = session.execute(stmt).all()
    memo["tiers"] = list(dict.fromkeys(row[0] for row in rows))
    program = rows[0][1] if rows else session.get(Program, 1)
    memo["program"] = program if program is not None else Program(id=1, **PROGRAM_DEFAULTS)
    if with_rates and rows:  # without a tier no row carries the rates: earn_rates() reads them itself
        memo["earn_rates"] = {**DEFAULT_EARN_RATES, **{row[2].category_code: row[2].rate_bp for row in rows
                                                       if row[2] is not None}}


def get_program(session: Session) -> Program:
    """The settings: the stored row, or an unsaved one holding the defaults."""
    memo = _memo(session)
    if "program" not in memo:
        _load_program_and_tiers(session, memo)
    return memo["program"]


def codes(text: str | None) -> frozenset[str]:
    return frozenset(code.strip() for code in (text or "").split(",") if code.strip())


def update_program(session: Session, values: dict, *, actor: StaffUser | None,
                   now: datetime | None = None) -> list[str]:
    """Save the settings; every field that changes gets an audit line. Returns the changed fields."""
    now = now or utcnow()
    program = session.get(Program, 1, with_for_update=True)
    if program is None:
        program = Program(id=1, **PROGRAM_DEFAULTS)
        session.add(program)
    changed = []
    for name, value in values.items():
        if name not in PROGRAM_DEFAULTS:
            raise ValueError(f"unknown program setting {name}")
        if getattr(program, name) != value:
            record_change(session, "program", name, getattr(program, name), value, actor, now)
            setattr(program, name, value)
            changed.append(name)
    if changed:
        program.updated_at = now
    session.flush()
    return changed


def earn_rates(session: Session) -> dict[str, int]:
    """Earn rate per category code: the defaults, overridden by what the manager saved."""
    memo = _memo(session)
    if "earn_rates" not in memo:
        rates = dict(DEFAULT_EARN_RATES)
        rates.update({row.category_code: row.rate_bp for row in session.scalars(select(EarnRate))})
        memo["earn_rates"] = rates
    return dict(memo["earn_rates"])


def set_earn_rates(session: Session, rates: dict[str, int], *, actor: StaffUser | None,
                   now: datetime | None = None) -> list[str]:
    now = now or utcnow()
    current = earn_rates(session)
    changed = []
    for code, rate in rates.items():
        if not 0 <= rate <= 10_000:
            raise ValueError("a rate is between 0 and 100%")
        row = session.get(EarnRate, code)
        if current.get(code, 0) != rate or row is None:
            if current.get(code, 0) != rate:
                record_change(session, f"earn_rate:{code}", "rate_bp", current.get(code, 0), rate, actor, now)
                changed.append(code)
            if row is None:
                session.add(EarnRate(category_code=code, rate_bp=rate))
            else:
                row.rate_bp = rate
    session.flush()
    return changed


TIER_FIELDS = ("name", "rank", "min_spend_minor", "min_repairs", "earn_multiplier_pct", "accessory_discount_bp",
               "free_diagnostics", "queue_priority")


def tiers(session: Session) -> list[Tier]:
    """Every tier, by rank."""
    memo = _memo(session)
    if "tiers" not in memo or any(isinstance(obj, Tier) for obj in (*session.new, *session.deleted)):
        _load_program_and_tiers(session, memo)
    return list(memo["tiers"])


TIER_CLASHES = {"name": _l("Another tier has this name."), "rank": _l("Another tier has this rank.")}


def tier_clashes(session: Session, tier: Tier | None, values: dict) -> dict[str, str]:
    """The unique fields (name, rank) whose new value another tier already has, with the message."""
    clashes = {}
    for name, message in TIER_CLASHES.items():
        if name in values:
            other = session.scalar(select(Tier.id).where(getattr(Tier, name) == values[name]))
            if other is not None and (tier is None or other != tier.id):
                clashes[name] = str(message)
    return clashes


def save_tier(session: Session, tier: Tier | None, values: dict, *, actor: StaffUser | None,
              now: datetime | None = None) -> Tier:
    """Create (``tier`` None) or change a tier; each changed field is audited. A name or rank another tier
    has is refused (LoyaltyError on that field)."""
    clashes = tier_clashes(session, tier, values)
    if clashes:
        field = next(iter(clashes))
        raise LoyaltyError(clashes[field], field=field)
    now = now or utcnow()
    if tier is None:
        tier = Tier()
        session.add(tier)
        old = dict.fromkeys(TIER_FIELDS)
    else:
        old = {name: getattr(tier, name) for name in TIER_FIELDS}
    for name in TIER_FIELDS:
        if name in values:
            setattr(tier, name, values[name])
    session.flush()
    for name in TIER_FIELDS:
        if name in values and old[name] != values[name]:
            record_change(session, f"tier:{tier.id}", name, old[name], values[name], actor, now)
    session.flush()
    return tier


@dataclass(frozen=True)
class Rules:
    """The settings a checkout needs, read once per checkout."""

    program: Program
    rates: dict[str, int]
    redeem_categories: frozenset[str]

    @property
    def active(self) -> bool:
        return bool(self.program.enabled)


def rules(session: Session) -> Rules:
    memo = _memo(session)
    if "program" not in memo:
        _load_program_and_tiers(session, memo, with_rates=True)
    program = get_program(session)
    return Rules(program=program, rates=earn_rates(session), redeem_categories=codes(program.redeem_categories))
