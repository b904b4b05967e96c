"""Everything the shop holds about one customer, table by table (GDPR Art. 15 and 20).

Each section is one table's rows that belong to the customer, every column as stored (amounts in minor units of
the shop's currency, times in UTC), so the export stays complete when a column is added. A new table that points
at a customer must be listed in SECTIONS or in NOT_EXPORTED with the reason (tests/privacy checks the schema)."""

import csv
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Select, inspect, or_, select
from sqlalchemy.orm import Session

from crm.customers.models import ConsentChange, Customer, TelegramCode
from crm.feedback.models import Feedback
from crm.loyalty.models import Account, Activity, Coupon, CouponUse, LedgerEntry, LotUse, TierChange
from crm.notifications.models import OutboxMessage
from crm.orders.models import OrderStatusChange, QuoteDecision, RepairOrder, RepairOrderLine
from crm.reports.csv_export import safe_cell
from crm.sales.models import Payment, Refund, RefundLine, Sale, SaleLine

FORMAT = "repair-crm-customer-export"
VERSION = 1
# Columns kept out of the export: derived from other columns (a search key, the birthday's month and day).
DERIVED = {"search_text", "birthday_mmdd"}


@dataclass(frozen=True)
class Section:
    name: str
    model: type
    rows: Callable[[int], Select]  # customer id -> the query of the section's rows


def _orders(cid: int):
    return select(RepairOrder.id).where(RepairOrder.customer_id == cid)


def _sales(cid: int):
    return select(Sale.id).where(Sale.customer_id == cid)


def _ledger(cid: int):
    return select(LedgerEntry.id).where(LedgerEntry.customer_id == cid)


SECTIONS = (
    Section("profile", Customer, lambda cid: select(Customer).where(Customer.id == cid)),
    Section("consent_history", ConsentChange, lambda cid: select(ConsentChange).where(ConsentChange.customer_id == cid)
            .order_by(ConsentChange.id)),
    Section("telegram_link_codes", TelegramCode,
            lambda cid: select(TelegramCode).where(TelegramCode.customer_id == cid)),
    Section("repair_orders", RepairOrder, lambda cid: select(RepairOrder).where(RepairOrder.customer_id == cid)),
    Section("repair_order_lines", RepairOrderLine,
            lambda cid: select(RepairOrderLine).where(RepairOrderLine.order_id.in_(_orders(cid)))),
    Section("repair_order_history", OrderStatusChange,
            lambda cid: select(OrderStatusChange).where(OrderStatusChange.order_id.in_(_orders(cid)))),
    Section("quote_decisions", QuoteDecision,
            lambda cid: select(QuoteDecision).where(QuoteDecision.order_id.in_(_orders(cid)))),
    Section("sales", Sale, lambda cid: select(Sale).where(Sale.customer_id == cid)),
    Section("sale_lines", SaleLine, lambda cid: select(SaleLine).where(SaleLine.sale_id.in_(_sales(cid)))),
    Section("payments", Payment, lambda cid: select(Payment).where(Payment.sale_id.in_(_sales(cid)))),
    Section("refunds", Refund, lambda cid: select(Refund).where(Refund.sale_id.in_(_sales(cid)))),
    Section("refund_lines", RefundLine, lambda cid: select(RefundLine).where(
        RefundLine.refund_id.in_(select(Refund.id).where(Refund.sale_id.in_(_sales(cid)))))),
    Section("loyalty_membership", Account, lambda cid: select(Account).where(Account.customer_id == cid)),
    Section("points_ledger", LedgerEntry, lambda cid: select(LedgerEntry).where(LedgerEntry.customer_id == cid)),
    Section("points_lot_uses", LotUse, lambda cid: select(LotUse).where(
        or_(LotUse.entry_id.in_(_ledger(cid)), LotUse.lot_id.in_(_ledger(cid))))),
    Section("loyalty_activity", Activity, lambda cid: select(Activity).where(Activity.customer_id == cid)),
    Section("tier_changes", TierChange, lambda cid: select(TierChange).where(TierChange.customer_id == cid)),
    Section("coupons", Coupon, lambda cid: select(Coupon).where(Coupon.customer_id == cid)),
    Section("coupon_uses", CouponUse, lambda cid: select(CouponUse).where(CouponUse.customer_id == cid)),
    Section("messages", OutboxMessage, lambda cid: select(OutboxMessage).where(OutboxMessage.customer_id == cid)),
    Section("feedback", Feedback, lambda cid: select(Feedback).where(Feedback.customer_id == cid)),
)
# Tables that point at a customer's rows but are not the customer's data, with the reason.
NOT_EXPORTED = {
    "orders_stock_movement": "the shop's stock book; the parts fitted in a repair are in repair_order_lines",
}


def _plain(value):
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def columns(model: type) -> list[str]:
    return [attribute.key for attribute in inspect(model).column_attrs if attribute.key not in DERIVED]


def _rows(session: Session, section: Section, customer_id: int) -> list[dict]:
    names = columns(section.model)
    query = section.rows(customer_id).order_by(*section.model.__table__.primary_key.columns)
    return [{name: _plain(getattr(row, name)) for name in names} for row in session.scalars(query)]


def devices(orders: list[dict]) -> list[dict]:
    """The customer's devices as the desk recorded them, one row per distinct device (from the repair orders)."""
    seen: dict[tuple, dict] = {}
    for order in orders:
        key = (order["device_type"], order["brand"], order["model"], order["serial_number"], order["imei"])
        device = seen.setdefault(key, {"device_type": key[0], "brand": key[1], "model": key[2],
                                       "serial_number": key[3], "imei": key[4], "repair_order_ids": []})
        device["repair_order_ids"].append(order["id"])
    return list(seen.values())


def collect(session: Session, customer_id: int, *, currency: str, now: datetime) -> dict:
    """The export as one JSON-ready document: a header and the sections, each a list of rows."""
    sections = {section.name: _rows(session, section, customer_id) for section in SECTIONS}
    sections["devices"] = devices(sections["repair_orders"])
    return {"format": FORMAT, "version": VERSION, "exported_at": _plain(now), "customer_id": customer_id,
            "currency": currency, "amounts": "integer minor units of the currency (1/100)", "times": "UTC",
            "sections": sections}


def _csv(rows: list[dict], header: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in header])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _cell(value) -> str:
    """Numbers as they are (a negative amount is not a formula); text made safe for spreadsheets."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return safe_cell(value)


def to_zip(document: dict) -> bytes:
    """customer.json (the whole document) and one CSV per section (its columns as the header, even when empty)."""
    headers = {section.name: columns(section.model) for section in SECTIONS}
    headers["devices"] = ["device_type", "brand", "model", "serial_number", "imei", "repair_order_ids"]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("customer.json", json.dumps(document, ensure_ascii=False, indent=2))
        for name, rows in document["sections"].items():
            archive.writestr(f"{name}.csv", _csv(rows, headers[name]))
    return out.getvalue()
