"""The device-lifecycle reminders: a warranty-ending message before a repair's warranty ends and a check-up
reminder some months after a repair of a kind the manager switched on; each once per order, caught up after
downtime within the catch-up days, chosen by one query."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.audit import AuditEntry
from crm.customers.models import Customer
from crm.jobs import discover
from crm.loyalty.models import Coupon, CouponTemplate
from crm.notifications.models import OutboxMessage
from crm.notifications.outbox import NO_MARKETING_CONSENT, NO_SERVICE_CONSENT
from crm.notifications.settings import save_settings
from crm.orders import reminders
from crm.orders.models import RepairOrder
from crm.orders.status import Status
from crm.orders.tracking import warranty_until
from crm.scheduler import as_of, run_job
from crm.shop_time import local_date, utc_from_local
from tests import factories
from tests.factories.sales import run_at_once

TODAY = date(2026, 11, 23)
NOW = as_of(TODAY)  # noon in Kyiv


@pytest.fixture(autouse=True)
def _email_configured(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")  # nothing is sent: rows stay in the outbox


_phones = iter(range(1, 100_000))


def picked_up(session, *, on: date | datetime, warranty_days: int = 90, repair_kind: str = "", status=Status.PICKED_UP,
              **customer):
    """A repair picked up at 15:00 shop time on ``on`` (or at the moment ``on``)."""
    customer.setdefault("email", f"owner{next(_phones)}@example.com")
    order = factories.order(factories.customer(**customer), warranty_days=warranty_days, repair_kind=repair_kind)
    order.status = status.value
    order.closed_at = on if isinstance(on, datetime) else utc_from_local(on, 15 * 60)
    session.flush()
    return order


def messages(session, event: str) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.event == event).order_by(OutboxMessage.id)))


def rule(session, kind: str, months: int, *, enabled: bool = True, coupon: int | None = None):
    reminders.save_reminder_settings(session, warranty_enabled=True, warranty_days_before=14,
                                     checkups={kind: reminders.CheckupSetting(enabled, months, coupon)},
                                     actor=None, now=NOW)


# --- warranty ending ---------------------------------------------------------------------------------------------

def test_the_warranty_reminder_goes_the_set_days_before_the_warranty_ends(session):
    due = picked_up(session, on=TODAY + timedelta(days=14) - timedelta(days=90))
    picked_up(session, on=TODAY + timedelta(days=15) - timedelta(days=90))  # tomorrow's
    picked_up(session, on=TODAY + timedelta(days=14) - timedelta(days=30), warranty_days=30, status=Status.CANCELLED)
    picked_up(session, on=TODAY - timedelta(days=30), warranty_days=0)  # no warranty
    session.commit()

    assert reminders.send_warranty_reminders(session, now=NOW) == 1
    [message] = messages(session, "warranty_ending")
    ends_on = warranty_until(due.closed_at, due.warranty_days)
    assert ends_on == TODAY + timedelta(days=14)
    assert (message.customer_id, message.kind, message.dedupe_key) == (due.customer_id, "service", f"warranty:{due.id}")
    assert f"ends on {ends_on.isoformat()}" in message.body_text
    assert due.number in message.body_text and "/t/" in message.body_text


def test_the_warranty_reminder_is_sent_once_however_often_the_job_runs(app, session):
    order = picked_up(session, on=TODAY - timedelta(days=76))
    session.commit()
    assert run_job(app, "warranty-reminders", now=NOW) == 1
    assert run_job(app, "warranty-reminders", now=NOW + timedelta(hours=2)) == 0
    assert run_job(app, "warranty-reminders", now=NOW + timedelta(days=1)) == 0  # caught up, not again
    assert [m.dedupe_key for m in messages(session, "warranty_ending")] == [f"warranty:{order.id}"]


def test_two_schedulers_at_once_send_one_warranty_reminder(app, session):
    picked_up(session, on=TODAY - timedelta(days=76))
    session.commit()
    run_at_once(app, *[lambda s: reminders.send_warranty_reminders(s, now=NOW) for _ in range(2)])
    assert len(messages(session, "warranty_ending")) == 1


def test_a_missed_warranty_reminder_is_caught_up_within_the_catch_up_days_while_the_warranty_lasts(session):
    save_settings(session, catch_up_days=7)
    late = picked_up(session, on=TODAY - timedelta(days=76 + 7))  # its day was a week ago
    picked_up(session, on=TODAY - timedelta(days=76 + 8))  # eight days ago: beyond the window
    session.commit()
    assert reminders.warranty_reminders_due(session, now=NOW) == [late.id]

    reminders.save_reminder_settings(session, warranty_enabled=True, warranty_days_before=3, checkups={}, actor=None,
                                     now=NOW)
    ended = picked_up(session, on=TODAY - timedelta(days=92))  # reminder day 5 days ago, the warranty ended
    lasts = picked_up(session, on=TODAY - timedelta(days=90))  # ends today: still in time
    session.commit()
    assert reminders.warranty_reminders_due(session, now=NOW) == [lasts.id]
    assert ended.id not in reminders.warranty_reminders_due(session, now=NOW)


def test_switched_off_the_warranty_reminder_sends_nothing(session):
    picked_up(session, on=TODAY - timedelta(days=76))
    reminders.save_reminder_settings(session, warranty_enabled=False, warranty_days_before=14, checkups={}, actor=None,
                                     now=NOW)
    session.commit()
    assert reminders.send_warranty_reminders(session, now=NOW) == 0
    assert messages(session, "warranty_ending") == []


def test_the_warranty_reminder_needs_service_consent(session):
    picked_up(session, on=TODAY - timedelta(days=76), service_consent=False)
    session.commit()
    reminders.send_warranty_reminders(session, now=NOW)
    [message] = messages(session, "warranty_ending")
    assert (message.status, message.last_error) == ("skipped", NO_SERVICE_CONSENT)


def test_the_selection_agrees_with_the_tracking_pages_warranty_day_by_day_across_clock_changes(session):
    """Pickups just after and just before midnight around the October clock change, several warranty lengths:
    on every day the query selects exactly the orders whose reminder day (by warranty_until) is that day."""
    save_settings(session, catch_up_days=0)
    orders = []
    for local_minute in (5, 23 * 60 + 55):
        for day in (date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)):
            for days in (14, 30, 45):
                orders.append(picked_up(session, on=utc_from_local(day, local_minute), warranty_days=days))
    session.commit()
    for offset in range(0, 50):
        today = date(2026, 10, 20) + timedelta(days=offset)
        expected = sorted(o.id for o in orders
                          if warranty_until(o.closed_at, o.warranty_days) - timedelta(days=14) == today)
        assert reminders.warranty_reminders_due(session, now=as_of(today)) == expected, today


# --- check-up ----------------------------------------------------------------------------------------------------

def test_the_check_up_reminder_goes_the_kinds_months_after_the_pickup(session):
    rule(session, "battery", 12)
    due = picked_up(session, on=date(2025, 11, 23), repair_kind="battery", marketing_consent=True)
    picked_up(session, on=date(2025, 11, 24), repair_kind="battery", marketing_consent=True)  # tomorrow's
    picked_up(session, on=date(2025, 11, 23), repair_kind="screen", marketing_consent=True)  # no settings
    picked_up(session, on=date(2025, 11, 23), repair_kind="", marketing_consent=True)  # kind not known
    session.commit()

    assert reminders.send_checkup_reminders(session, now=NOW) == 1
    [message] = messages(session, "checkup_reminder")
    assert (message.customer_id, message.kind, message.dedupe_key) == (due.customer_id, "marketing",
                                                                      f"checkup:{due.id}")
    assert "(Battery, order" in message.body_text and message.unsubscribe_url
    assert "coupon" not in message.body_text.lower()
    assert reminders.send_checkup_reminders(session, now=NOW + timedelta(hours=3)) == 0
    assert reminders.send_checkup_reminders(session, now=NOW + timedelta(days=1)) == 1  # tomorrow's, not again
    assert [m.dedupe_key for m in messages(session, "checkup_reminder")][0] == f"checkup:{due.id}"


def test_kinds_switched_off_or_never_set_send_nothing(session):
    rule(session, "battery", 12, enabled=False)
    picked_up(session, on=date(2025, 11, 23), repair_kind="battery", marketing_consent=True)
    picked_up(session, on=date(2025, 11, 23), repair_kind="software", marketing_consent=True)
    session.commit()
    assert reminders.send_checkup_reminders(session, now=NOW) == 0
    assert messages(session, "checkup_reminder") == []


def test_a_month_after_the_31st_is_the_months_last_day(session):
    save_settings(session, catch_up_days=0)
    rule(session, "liquid_damage", 1)
    january = [picked_up(session, on=date(2026, 1, day), repair_kind="liquid_damage") for day in (28, 29, 30, 31)]
    session.commit()
    assert reminders.checkup_reminders_due(session, now=as_of(date(2026, 2, 27))) == []
    assert reminders.checkup_reminders_due(session, now=as_of(date(2026, 2, 28))) == [o.id for o in january]
    assert reminders.checkup_reminders_due(session, now=as_of(date(2026, 3, 1))) == []


def test_the_selection_agrees_with_add_months_day_by_day(session):
    save_settings(session, catch_up_days=0)
    rule(session, "battery", 1)
    orders = [picked_up(session, on=date(2026, 1, 1) + timedelta(days=n), repair_kind="battery") for n in range(70)]
    session.commit()
    for offset in range(90):
        today = date(2026, 1, 25) + timedelta(days=offset)
        expected = [o.id for o in orders if reminders.add_months(local_date(o.closed_at), 1) == today]
        assert reminders.checkup_reminders_due(session, now=as_of(today)) == expected, today


def test_a_missed_check_up_is_caught_up_within_the_catch_up_days(session):
    save_settings(session, catch_up_days=3)
    rule(session, "screen", 6)
    late = picked_up(session, on=date(2026, 5, 20), repair_kind="screen")  # due 20 November: 3 days ago
    picked_up(session, on=date(2026, 5, 19), repair_kind="screen")  # due 4 days ago: missed for good
    session.commit()
    assert reminders.checkup_reminders_due(session, now=NOW) == [late.id]


def test_the_check_up_reminder_needs_marketing_consent_and_then_gets_no_coupon(session):
    template = coupon_template(session)
    rule(session, "battery", 12, coupon=template.id)
    picked_up(session, on=date(2025, 11, 23), repair_kind="battery", marketing_consent=False)
    session.commit()
    reminders.send_checkup_reminders(session, now=NOW)
    [message] = messages(session, "checkup_reminder")
    assert (message.status, message.last_error) == ("skipped", NO_MARKETING_CONSENT)
    assert session.scalar(select(func.count()).select_from(Coupon)) == 0


def test_the_check_up_reminder_waits_out_the_quiet_hours(session):
    save_settings(session, quiet_start_minute=21 * 60, quiet_end_minute=9 * 60)
    rule(session, "battery", 12)
    picked_up(session, on=date(2025, 11, 23), repair_kind="battery", marketing_consent=True)
    session.commit()
    late_evening = utc_from_local(TODAY, 22 * 60)
    reminders.send_checkup_reminders(session, now=late_evening)
    [message] = messages(session, "checkup_reminder")
    assert message.status == "pending"
    assert message.next_attempt_at == utc_from_local(TODAY + timedelta(days=1), 9 * 60)


def coupon_template(session, active: bool = True) -> CouponTemplate:
    template = CouponTemplate(name=f"Check-up 10% {active}", kind="percent", value=1000, categories="repair_labour",
                              min_bill_minor=0, validity_days=30, active=active)
    session.add(template)
    session.flush()
    return template


def test_the_kinds_coupon_is_issued_once_per_order_and_named_in_the_message(session):
    template = coupon_template(session)
    rule(session, "battery", 12, coupon=template.id)
    order = picked_up(session, on=date(2025, 11, 23), repair_kind="battery", marketing_consent=True)
    session.commit()
    reminders.send_checkup_reminders(session, now=NOW)
    [coupon] = session.scalars(select(Coupon)).all()
    assert (coupon.customer_id, coupon.issued_for, coupon.kind) == (order.customer_id, f"checkup:{order.id}",
                                                                   "personal")
    [message] = messages(session, "checkup_reminder")
    assert coupon.code in message.body_text
    assert f"valid until {local_date(coupon.valid_until).isoformat()}" in message.body_text

    # Sent again by hand (a replayed job): the same coupon, the same message.
    again = reminders.checkup_reminder(session, order, session.get(Customer, order.customer_id),
                                       reminders.checkup_rules(session)["battery"], now=NOW + timedelta(days=1))
    session.commit()
    assert again.id == message.id
    assert session.scalar(select(func.count()).select_from(Coupon)) == 1


def test_an_ended_coupon_offer_is_not_issued_but_the_reminder_goes(session):
    template = coupon_template(session)
    rule(session, "battery", 12, coupon=template.id)
    template.active = False
    picked_up(session, on=date(2025, 11, 23), repair_kind="battery", marketing_consent=True)
    session.commit()
    assert reminders.send_checkup_reminders(session, now=NOW) == 1
    assert session.scalar(select(func.count()).select_from(Coupon)) == 0
    [message] = messages(session, "checkup_reminder")
    assert "coupon" not in message.body_text.lower()


# --- settings and jobs -------------------------------------------------------------------------------------------

def test_settings_changes_are_audited_and_bad_values_refused(session):
    manager = factories.staff(role="manager")
    template = coupon_template(session)
    changed = reminders.save_reminder_settings(
        session, warranty_enabled=True, warranty_days_before=10, actor=manager, now=NOW,
        checkups={"battery": reminders.CheckupSetting(True, 12, template.id)})
    assert changed == 3  # days before, battery on, its coupon (12 months is the suggestion already)
    trail = {(e.subject, e.field, e.old_value, e.new_value) for e in session.scalars(select(AuditEntry))}
    assert ("reminders", "warranty_days_before", "14", "10") in trail
    assert ("checkup:battery", "enabled", "False", "True") in trail
    assert ("checkup:battery", "coupon_template_id", "", str(template.id)) in trail
    reminder_rows = session.scalars(select(AuditEntry).where(AuditEntry.area == "reminders"))
    assert all(e.actor_id == manager.id for e in reminder_rows)
    for bad, field in [({"warranty_days_before": 0}, "warranty_days_before"),
                       ({"checkups": {"battery": reminders.CheckupSetting(True, 61)}}, "battery_months"),
                       ({"checkups": {"battery": reminders.CheckupSetting(True, 6, 999999)}}, "battery_coupon")]:
        values = {"warranty_enabled": True, "warranty_days_before": 14, "checkups": {}, **bad}
        with pytest.raises(reminders.ReminderError) as refused:
            reminders.save_reminder_settings(session, actor=manager, now=NOW, **values)
        assert refused.value.field == field


def test_both_reminders_are_daily_jobs(app):
    jobs = discover()
    assert jobs["warranty-reminders"].at and jobs["checkup-reminders"].at


def test_an_order_picked_up_at_midnight_utc_counts_by_the_shops_day(session):
    """00:30 UTC is 02:30 in Kyiv: the pickup day, and so the warranty's last day, are the shop's."""
    order = picked_up(session, on=datetime(2026, 8, 23, 23, 30, tzinfo=UTC), warranty_days=90)  # 24 August in Kyiv
    session.commit()
    assert warranty_until(order.closed_at, 90) == date(2026, 11, 22)
    assert reminders.warranty_reminders_due(session, now=as_of(date(2026, 11, 8))) == [order.id]
    assert session.get(RepairOrder, order.id).status == "picked_up"
