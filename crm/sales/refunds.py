"""Refunds: full or partial, per line, each referencing the sale and the lines it pays back.

A line's units can be refunded once: ``refunded_quantity`` on the sale line grows under the sale's
row lock and a CHECK constraint keeps it within the line's quantity. The amount follows rule 4 of
crm.sales.pricing. Items refunded into stock come back through a "returned" movement. Points spent
on the refunded units come back and points they earned are taken back (crm.sales.loyalty)."""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from crm import audit
from crm.auth.models import StaffUser
from crm.catalogue.models import CatalogueItem
from crm.catalogue.stock import record_movement
from crm.database import utcnow
from crm.errors import RuleError
from crm.locales import lazy_gettext as _l
from crm.numbering import next_number
from crm.sales import loyalty as sale_loyalty
from crm.sales import pricing
from crm.sales.models import Refund, RefundLine, Sale, SaleLine, SaleStatus


class RefundError(RuleError):
    pass


@dataclass(frozen=True)
class RefundRequest:
    sale_line_id: int
    quantity: int
    restock: bool = True


def _digest(sale_id: int, requests: Sequence[RefundRequest], method: str, reason: str) -> str:
    content = {"sale": sale_id, "method": method, "reason": reason.strip(),
               "lines": sorted([r.sale_line_id, r.quantity, bool(r.restock)] for r in requests if r.quantity)}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def refund(session: Session, sale_id: int, requests: Sequence[RefundRequest], *, method: str, reason: str,
           key: str, actor: StaffUser, payment_methods: Sequence[str], number_prefix: str,
           now: datetime | None = None) -> Refund:
    """Pay back some units of some lines of a paid sale. The same key and content again returns the
    first refund; the same key with other content is refused."""
    now = now or utcnow()
    if not key or len(key) > 64:
        raise RefundError(_l("This form has expired; open the refund again."))
    digest = _digest(sale_id, requests, method, reason)
    sale = _lock_sale(session, sale_id)
    previous = _earlier_refund(session, sale, key, digest)
    if previous is not None:
        return previous
    wanted = _wanted_units(sale, requests, method, reason, payment_methods)
    lines = {line.id: line for line in session.scalars(
        select(SaleLine).where(SaleLine.sale_id == sale.id).execution_options(populate_existing=True))}
    refund_row = Refund(number=next_number(session, number_prefix, series="refund"), sale_id=sale.id,
                        reason=reason.strip(), method=method, amount_minor=0, refund_key=key, refund_digest=digest,
                        created_by_id=actor.id, created_at=now)
    refunded = _pay_back_units(refund_row, lines, wanted)
    session.add(refund_row)
    session.flush()
    _pay_back_points(session, sale, refund_row, refunded, actor, now)
    session.flush()
    _restock(session, refund_row, lines, actor, now)
    audit.record(session, actor, "refund", "refund", refund_row.number,
                 {"sale": sale.number, "amount_minor": refund_row.amount_minor, "method": method,
                  "units": sum(units for _, units in refunded)}, area="refunds", now=now)
    return refund_row


def _lock_sale(session: Session, sale_id: int) -> Sale:
    """The sale, row-locked first (a refund locks sale, account, items, in that order) and read afresh:
    a desk that waited for the lock sees what the other desk committed."""
    sale = session.scalar(select(Sale).where(Sale.id == sale_id).with_for_update()
                          .execution_options(populate_existing=True))
    if sale is None:
        raise RefundError(_l("This sale does not exist."))
    return sale


def _earlier_refund(session: Session, sale: Sale, key: str, digest: str) -> Refund | None:
    """The refund this form already made, if it is the same form again; a key used with other content
    (or for another sale) is refused rather than paying back twice."""
    previous = session.scalar(select(Refund).where(Refund.refund_key == key))
    if previous is None:
        return None
    if previous.sale_id == sale.id and previous.refund_digest == digest:
        return previous
    raise RefundError(_l("This refund form was already submitted with other content; "
                         "check the sale's refunds."))


def _wanted_units(sale: Sale, requests: Sequence[RefundRequest], method: str, reason: str,
                  payment_methods: Sequence[str]) -> list[RefundRequest]:
    """The requests with units to refund. Only a paid sale is refunded, with a known method, a reason,
    and each line at most once with a positive quantity."""
    if sale.status != SaleStatus.PAID:
        raise RefundError(_l("Only a paid sale can be refunded."))
    if method not in payment_methods:
        raise RefundError(_l("Choose how the money is paid back."), field="method")
    if not reason.strip():
        raise RefundError(_l("Say why the money is paid back."), field="reason")
    wanted = [r for r in requests if r.quantity]
    if not wanted:
        raise RefundError(_l("Choose at least one unit to refund."), field="lines")
    if any(r.quantity < 0 for r in wanted) or len({r.sale_line_id for r in wanted}) != len(wanted):
        raise RefundError(_l("Each line is refunded once per refund, with a positive quantity."), field="lines")
    return wanted


def _pay_back_units(refund_row: Refund, lines: dict[int, SaleLine],
                    wanted: Sequence[RefundRequest]) -> list[tuple[SaleLine, int]]:
    """Add a refund line per request, paying back what the units cost (rule 4 of crm.sales.pricing) and
    counting them as refunded on the sale line; sets the refund's amount. Returns (sale line, units)."""
    total = 0
    refunded = []
    for request in wanted:
        line = _refundable_line(lines, request)
        amount = pricing.refund_amount(line.total_minor, line.quantity, line.refunded_quantity,
                                       line.refunded_minor, request.quantity)
        line.refunded_quantity += request.quantity
        line.refunded_minor += amount
        restock = bool(request.restock and line.item_id is not None)
        refund_row.lines.append(RefundLine(sale_line_id=line.id, quantity=request.quantity, amount_minor=amount,
                                           restocked=restock))
        total += amount
        refunded.append((line, request.quantity))
    if total <= 0:
        raise RefundError(_l("Nothing was paid for these units, so there is nothing to pay back."), field="lines")
    refund_row.amount_minor = total
    return refunded


def _refundable_line(lines: dict[int, SaleLine], request: RefundRequest) -> SaleLine:
    """The sale line asked for, if it is on this sale and has that many units not yet refunded."""
    line = lines.get(request.sale_line_id)
    if line is None:
        raise RefundError(_l("This line is not on this sale."), field="lines")
    left = line.quantity - line.refunded_quantity
    if request.quantity > left:
        raise RefundError(_l("%(item)s: only %(n)d left to refund.", item=line.description, n=left),
                          field="lines")
    return line


def _pay_back_points(session: Session, sale: Sale, refund_row: Refund, refunded: Sequence[tuple[SaleLine, int]],
                     actor: StaffUser, now: datetime) -> None:
    """Undo the points of the refunded units (crm.sales.loyalty) and keep from the money the value of
    earned points the customer has already spent."""
    total = refund_row.amount_minor
    points = sale_loyalty.reverse_for_refund(session, sale, refund_row, refunded, actor=actor, now=now)
    refund_row.points_restored = points.restored
    refund_row.points_reversed = points.reversed
    refund_row.points_shortfall = points.shortfall
    refund_row.points_kept_minor = points.kept_minor
    refund_row.amount_minor = total - points.kept_minor


def _restock(session: Session, refund_row: Refund, lines: dict[int, SaleLine], actor: StaffUser,
             now: datetime) -> None:
    item_ids = {lines[rl.sale_line_id].item_id for rl in refund_row.lines if rl.restocked}
    if not item_ids:
        return
    items = {i.id: i for i in session.scalars(select(CatalogueItem).where(CatalogueItem.id.in_(item_ids)))}
    # In item id order, as checkout takes them: a refund and a checkout of the same items cannot deadlock.
    for refund_line in sorted(refund_row.lines, key=lambda rl: lines[rl.sale_line_id].item_id or 0):
        if refund_line.restocked:
            item = items[lines[refund_line.sale_line_id].item_id]
            if not item.stock_tracked:
                refund_line.restocked = False  # a service or untracked item has no stock to return to
                continue
            record_movement(session, item, "returned", refund_line.quantity, actor=actor,
                            reason=refund_row.number, sale_id=refund_row.sale_id, refund_id=refund_row.id, now=now)
    session.flush()


def refunds_of_sale(session: Session, sale_id: int) -> list[Refund]:
    return list(session.scalars(
        select(Refund).where(Refund.sale_id == sale_id).order_by(Refund.id)
        .options(selectinload(Refund.lines), selectinload(Refund.created_by))
    ))
