"""The one audit log, called as services: each audited change writes one row with its area, action and actor, in
the transaction of the change (rolled back with it, never written by a refused change)."""

import json

import pytest
from sqlalchemy import select

from crm import audit
from crm.audit import AuditEntry
from crm.auth import service as auth_service
from crm.auth.models import Role
from crm.catalogue import service as catalogue
from crm.loyalty import accounts
from crm.loyalty.ledger import LoyaltyError
from crm.notifications.settings import save_settings
from crm.sales.models import SaleLine
from crm.sales.refunds import RefundError, RefundRequest
from tests import factories
from tests.factories.sales import give_back, new_item, paid_sale, staff_member


@pytest.fixture
def manager(session):
    return staff_member(session, Role.MANAGER)


def rows(session, area: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.area == area).order_by(AuditEntry.id)))


def test_record_writes_an_action_with_json_details_and_refuses_an_unknown_area(session, manager):
    entry = audit.record(session, manager, "export", "customer", 7, {"files": 3, "name": "Олена"}, area="privacy")
    session.flush()
    assert (entry.area, entry.action, entry.subject, entry.actor_id) == ("privacy", "export", "customer:7", manager.id)
    assert json.loads(entry.new_value) == {"files": 3, "name": "Олена"}
    with pytest.raises(ValueError):
        audit.record(session, manager, "export", "customer", 7, area="nowhere")
    assert audit.record(session, manager, "erase", "customer", 7).area == "privacy"  # the target's area
    with pytest.raises(ValueError):
        audit.record(session, manager, "export", "something", 7)  # no area of its own: say which


def test_a_setting_change_keeps_its_area_from_the_subject(session, manager):
    for subject, area in [("tier:2", "loyalty"), ("staff:olena", "staff"), ("checkup:battery", "reminders"),
                          ("message_template:welcome:sms:en", "notifications"), ("customer:3", "privacy"),
                          ("customers", "privacy")]:
        assert audit.record_change(session, subject, "x", 1, 2, manager).area == area


def test_a_manual_points_adjustment_is_audited_once_with_its_actor(session, manager):
    customer = factories.customer()
    entry = accounts.adjust_points(session, customer, 40, reason="Goodwill", key="adj-1", actor=manager)
    accounts.adjust_points(session, customer, 40, reason="Goodwill", key="adj-1", actor=manager)  # sent twice
    (row,) = rows(session, "points")
    assert (row.action, row.subject, row.actor_id) == ("adjust", f"customer:{customer.id}", manager.id)
    balance = accounts.get_account(session, customer.id).balance  # a welcome bonus may come with the enrolment
    assert json.loads(row.new_value) == {"points": 40, "balance": balance, "ledger_entry": entry.id}
    assert "Goodwill" not in row.new_value  # the free text stays on the ledger entry only
    accounts.adjust_points(session, customer, -15, reason="Mistake", key="adj-2", actor=manager)
    assert json.loads(rows(session, "points")[-1].new_value)["balance"] == balance - 15


def test_a_refused_points_adjustment_writes_no_audit_row(session, manager):
    customer = factories.customer()
    with pytest.raises(LoyaltyError):
        accounts.adjust_points(session, customer, -100_000, reason="Too many", key="adj-3", actor=manager)
    with pytest.raises(LoyaltyError):
        accounts.adjust_points(session, customer, 5, reason=" ", key="adj-4", actor=manager)
    assert rows(session, "points") == []


def test_a_refund_is_audited_in_its_transaction(app, session, manager):
    item = new_item(session, price_minor=35_000, on_hand=5)
    sale = paid_sale(session, manager, [(item, 2)])
    line = session.scalar(select(SaleLine).where(SaleLine.sale_id == sale.id))
    done = give_back(session, sale.id, [RefundRequest(line.id, 1)], actor=manager, method="card")
    (row,) = rows(session, "refunds")
    assert (row.action, row.subject, row.actor_id) == ("refund", f"refund:{done.number}", manager.id)
    assert json.loads(row.new_value) == {"sale": sale.number, "amount_minor": done.amount_minor, "method": "card",
                                         "units": 1}
    session.rollback()  # the refund and its audit row are one transaction: undoing one undoes the other
    assert rows(session, "refunds") == []


def test_a_failed_refund_writes_no_audit_row(session, manager):
    item = new_item(session, price_minor=35_000, on_hand=5)
    sale = paid_sale(session, manager, [(item, 1)])
    line = session.scalar(select(SaleLine).where(SaleLine.sale_id == sale.id))
    with pytest.raises(RefundError):
        give_back(session, sale.id, [RefundRequest(line.id, 3)], actor=manager)  # more than was sold
    assert rows(session, "refunds") == []


def test_a_price_or_cost_change_is_audited_and_other_edits_are_not(session, manager):
    item = new_item(session, price_minor=10_000)
    data = catalogue.ItemData(sku=item.sku, name="Renamed", category_id=item.category_id, price_minor=10_000,
                              cost_minor=0, stock_tracked=True)
    catalogue.update_item(session, item, data, actor=manager)
    assert rows(session, "prices") == []
    data.price_minor, data.cost_minor = 12_500, 4_000
    catalogue.update_item(session, item, data, actor=manager)
    assert [(r.subject, r.field, r.old_value, r.new_value, r.actor_id) for r in rows(session, "prices")] == [
        (f"item:{item.id}", "price_minor", "10000", "12500", manager.id),
        (f"item:{item.id}", "cost_minor", "0", "4000", manager.id)]


def test_a_refused_item_change_writes_no_audit_row(session, manager):
    item = new_item(session, price_minor=10_000, on_hand=2)
    data = catalogue.ItemData(sku=item.sku, name=item.name, category_id=item.category_id, price_minor=1,
                              stock_tracked=False)  # units on hand: tracking cannot stop
    with pytest.raises(catalogue.CatalogueError):
        catalogue.update_item(session, item, data, actor=manager)
    assert rows(session, "prices") == []


def test_a_stock_adjustment_is_audited_but_goods_in_are_not(session, manager):
    item = new_item(session, on_hand=5)
    catalogue.receive_stock(session, item, 3, actor=manager)
    movement = catalogue.adjust_stock(session, item, -2, actor=manager, reason="Broken in storage")
    (row,) = rows(session, "stock")
    assert (row.action, row.subject, row.actor_id) == ("adjust", f"item:{item.id}", manager.id)
    assert json.loads(row.new_value) == {"sku": item.sku, "quantity": -2, "on_hand": 6, "movement": movement.id,
                                         "reason": "Broken in storage"}
    with pytest.raises(catalogue.CatalogueError):
        catalogue.adjust_stock(session, item, -100, actor=manager, reason="count")
    assert len(rows(session, "stock")) == 1


def test_notification_settings_changes_are_audited_but_not_the_polling_offset(session, manager):
    save_settings(session, actor=manager, max_attempts=6, catch_up_days=3)  # 6 is the default: unchanged
    save_settings(session, telegram_update_offset=99)
    assert [(r.subject, r.field, r.old_value, r.new_value, r.actor_id) for r in rows(session, "notifications")] == [
        ("notification_settings", "catch_up_days", "7", "3", manager.id)]


def test_staff_accounts_creation_changes_and_passwords_are_audited(session, manager):
    user = auth_service.create_staff(session, username="Olena", full_name="Olena K", role=Role.TECHNICIAN,
                                     password="correct-horse-42", actor=manager)
    auth_service.update_staff(session, user, full_name="Olena K", role=Role.FRONT_DESK, active=False,
                              acting=manager)
    auth_service.set_password(session, user, "another-horse-42", actor=manager)
    trail = [(r.action, r.subject, r.field, r.old_value, r.new_value, r.actor_id) for r in rows(session, "staff")]
    assert trail == [("create", "staff:olena", "", "", '{"role": "technician"}', manager.id),
                     ("change", "staff:olena", "role", "technician", "front_desk", manager.id),
                     ("change", "staff:olena", "is_active_account", "True", "False", manager.id),
                     ("password_set", "staff:olena", "", "", "{}", manager.id)]
    with pytest.raises(auth_service.AuthError):
        auth_service.set_password(session, user, "short", actor=manager)
    assert len(rows(session, "staff")) == 4


def test_no_code_path_updates_or_deletes_an_audit_row():
    """Append-only: nothing in crm/ names the audit table in an UPDATE or DELETE."""
    from pathlib import Path

    crm = Path(__file__).resolve().parent.parent / "crm"
    for path in crm.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for verb in ("update(AuditEntry", "delete(AuditEntry", "session.delete(entry"):
            assert verb not in text, (path, verb)


@pytest.mark.parametrize("statement", ["UPDATE loyalty_audit SET new_value = 'forged'",
                                       "DELETE FROM loyalty_audit"])
def test_the_database_refuses_to_change_or_remove_an_audit_row(session, manager, statement):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    audit.record(session, manager, "refund", "refund", "RF-00001", {"amount_minor": 100}, area="refunds")
    session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    assert [r.new_value for r in rows(session, "refunds")] == ['{"amount_minor": 100}']
