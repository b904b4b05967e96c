"""Sections of the repair's pages contributed by modules that depend on orders.

orders must not import feedback (feedback imports orders), yet the customer's tracking page and the staff's
order page show the order's feedback: such a module registers a section here at import, and the page renders
every registered section whose context function gives it something to show (crm/customers/profile.py does
the same for the customer page)."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crm.orders.models import RepairOrder


@dataclass(frozen=True)
class OrderSection:
    template: str
    context: Callable  # (session, order) -> dict for the template, or None when there is nothing to show
    order: int = 100


_tracking: list[OrderSection] = []  # the customer's page, /t/<token>
_staff: list[OrderSection] = []  # the order page, /orders/<id>


def _register(sections: list[OrderSection], section: OrderSection) -> None:
    if section not in sections:
        sections.append(section)
        sections.sort(key=lambda s: s.order)


def register_tracking_section(section: OrderSection) -> None:
    _register(_tracking, section)


def register_order_page_section(section: OrderSection) -> None:
    _register(_staff, section)


def _shown(sections: list[OrderSection], session: Session, order: RepairOrder) -> list[tuple[str, dict]]:
    shown = []
    for section in sections:
        values = section.context(session, order)
        if values is not None:
            shown.append((section.template, values))
    return shown


def tracking_sections(session: Session, order: RepairOrder) -> list[tuple[str, dict]]:
    """(template, values) of each section the customer's page shows for ``order``."""
    return _shown(_tracking, session, order)


def order_page_sections(session: Session, order: RepairOrder) -> list[tuple[str, dict]]:
    """(template, values) of each section the staff's order page shows for ``order``."""
    return _shown(_staff, session, order)
