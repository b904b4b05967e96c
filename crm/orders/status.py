"""The repair status workflow: every allowed move is in TRANSITIONS and nowhere else."""

from enum import StrEnum

from crm.auth.models import Role
from crm.locales import lazy_gettext as _l
from crm.locales import lazy_pgettext as _lp


class Status(StrEnum):
    RECEIVED = "received"
    DIAGNOSING = "diagnosing"
    AWAITING_APPROVAL = "awaiting_approval"
    AWAITING_PARTS = "awaiting_parts"
    IN_REPAIR = "in_repair"
    READY = "ready"
    PICKED_UP = "picked_up"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    Status.RECEIVED: _lp("repair status", "Received"),
    Status.DIAGNOSING: _l("Diagnosing"),
    Status.AWAITING_APPROVAL: _l("Awaiting approval"),
    Status.AWAITING_PARTS: _l("Awaiting parts"),
    Status.IN_REPAIR: _l("In repair"),
    Status.READY: _l("Ready for pickup"),
    Status.PICKED_UP: _l("Picked up"),
    Status.CANCELLED: _l("Cancelled"),
}

S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.RECEIVED: frozenset({S.DIAGNOSING, S.CANCELLED}),
    S.DIAGNOSING: frozenset({S.AWAITING_APPROVAL, S.AWAITING_PARTS, S.IN_REPAIR, S.READY, S.CANCELLED}),
    S.AWAITING_APPROVAL: frozenset({S.AWAITING_PARTS, S.IN_REPAIR, S.CANCELLED}),
    S.AWAITING_PARTS: frozenset({S.IN_REPAIR, S.CANCELLED}),
    S.IN_REPAIR: frozenset({S.AWAITING_PARTS, S.READY, S.CANCELLED}),
    S.READY: frozenset({S.PICKED_UP, S.IN_REPAIR}),
    S.PICKED_UP: frozenset(),
    S.CANCELLED: frozenset(),
}

# Which role may move an order *into* a status (managers may do all). The desk records the
# customer's answer to a quote and hands devices back; technicians do the bench work.
TARGETS_BY_ROLE: dict[str, frozenset[Status]] = {
    Role.TECHNICIAN: frozenset({S.DIAGNOSING, S.AWAITING_APPROVAL, S.AWAITING_PARTS, S.IN_REPAIR, S.READY,
                                S.CANCELLED}),
    Role.FRONT_DESK: frozenset({S.AWAITING_PARTS, S.IN_REPAIR, S.PICKED_UP, S.CANCELLED}),
    Role.MANAGER: frozenset(Status),
}

# The customer's answer to a quote moves the order without a staff member's role (crm.orders.quotes):
# approved -> one of APPROVAL_TARGETS (the technician's choice when asking, "in repair" by default);
# declined -> READY (the device goes back unrepaired). A quote that changes after its approval, before
# the device is ready, sends the order from REASK_FROM back to AWAITING_APPROVAL.
APPROVAL_TARGETS = (S.IN_REPAIR, S.AWAITING_PARTS)
DECLINED_TO = S.READY
REASK_FROM = frozenset({S.IN_REPAIR, S.AWAITING_PARTS})

# Reached only through checkout (crm.sales.checkout), which takes the payment in the same transaction.
CHECKOUT_ONLY = frozenset({S.PICKED_UP})

OPEN_STATUSES = frozenset(Status) - {S.PICKED_UP, S.CANCELLED}
CLOSED_STATUSES = frozenset({S.PICKED_UP, S.CANCELLED})


def allowed_targets(current: str, role: str) -> list[Status]:
    """The statuses ``role`` may move an order in ``current`` to by hand, in workflow order."""
    allowed = (TRANSITIONS[Status(current)] & TARGETS_BY_ROLE[role]) - CHECKOUT_ONLY
    return [s for s in Status if s in allowed]
