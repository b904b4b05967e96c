"""The scheduled jobs: each run twice, late, or in several processes at once has one effect."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.jobs import discover
from crm.loyalty import accounts, ledger
from crm.loyalty import jobs as loyalty_jobs
from crm.loyalty.models import Account, LedgerEntry, Tier, TierChange
from crm.loyalty.program import update_program
from crm.notifications.models import OutboxMessage
from crm.notifications.settings import save_settings
from crm.orders import service as order_service
from crm.scheduler import as_of, build, run_job
from tests import factories
from tests.factories.sales import run_at_once

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 10:00 in Kyiv


_seq = iter(range(1, 10_000))


def member(session, **kw):
    kw.setdefault("marketing_consent", True)
    customer = factories.customer(email=f"member{next(_seq)}@example.com", **kw)
    accounts.enrol(session, customer, now=NOW - timedelta(days=30))
    session.commit()
    return customer


def outbox(session, event: str) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.event == event).order_by(OutboxMessage.id)))


def entries(session, key_prefix: str) -> int:
    return session.scalar(select(func.count()).where(LedgerEntry.idempotency_key.like(f"{key_prefix}%")))


def test_birthday_bonus_and_greeting_once_however_often_the_job_runs(session):
    customer = member(session, birthday=date(1990, 11, 23))
    factories.customer(birthday=date(1991, 11, 23))  # not a member: no bonus, no greeting
    session.commit()
    assert loyalty_jobs.birthday_bonuses(session, NOW) == 1
    assert loyalty_jobs.birthday_bonuses(session, NOW + timedelta(hours=3)) == 0
    assert entries(session, f"birthday:{customer.id}:2026") == 1
    [greeting] = outbox(session, "birthday")
    assert greeting.customer_id == customer.id and greeting.kind == "marketing" and greeting.unsubscribe_url
    assert "100 points" in greeting.body_text
    balance = session.scalar(select(Account.balance).where(Account.customer_id == customer.id))
    assert balance == 150  # welcome 50 + birthday 100


def test_birthday_job_in_three_processes_at_once_awards_once(app, session):
    customers = [member(session, birthday=date(1980 + n, 11, 23)) for n in range(3)]
    results = run_at_once(app, *[lambda s: loyalty_jobs.birthday_bonuses(s, NOW) for _ in range(3)])
    assert sum(results) == 3
    for customer in customers:
        assert entries(session, f"birthday:{customer.id}:") == 1
    assert len(outbox(session, "birthday")) == 3


def test_a_birthday_missed_while_the_scheduler_was_down_is_caught_up_within_the_window(session):
    save_settings(session, catch_up_days=7)
    recent = member(session, birthday=date(1990, 11, 18))  # five days ago
    too_old = member(session, birthday=date(1990, 11, 10))  # thirteen days ago
    assert loyalty_jobs.birthday_bonuses(session, NOW) == 1
    assert entries(session, f"birthday:{recent.id}:2026") == 1
    assert entries(session, f"birthday:{too_old.id}:") == 0


def test_29_february_is_celebrated_on_the_28th_in_other_years(session):
    save_settings(session, catch_up_days=0)
    leapling = member(session, birthday=date(2000, 2, 29))
    assert loyalty_jobs.birthday_bonuses(session, datetime(2027, 2, 28, 10, tzinfo=UTC)) == 1
    assert loyalty_jobs.birthday_bonuses(session, datetime(2027, 3, 1, 10, tzinfo=UTC)) == 0
    assert entries(session, f"birthday:{leapling.id}:2027") == 1


def test_a_member_without_marketing_consent_gets_the_bonus_but_no_greeting(session):
    customer = member(session, birthday=date(1990, 11, 23), marketing_consent=False)
    loyalty_jobs.birthday_bonuses(session, NOW)
    assert entries(session, f"birthday:{customer.id}:2026") == 1
    [row] = outbox(session, "birthday")
    assert row.status == "skipped" and "marketing" in row.last_error


def test_anniversary_of_the_first_purchase_once_a_year(session):
    customer = member(session)
    account = session.get(Account, customer.id)
    account.first_purchase_at = datetime(2024, 11, 23, 10, tzinfo=UTC)
    account.first_purchase_mmdd = 1123
    newcomer = member(session)
    fresh = session.get(Account, newcomer.id)
    fresh.first_purchase_at, fresh.first_purchase_mmdd = datetime(2026, 11, 23, 7, tzinfo=UTC), 1123
    session.commit()
    assert loyalty_jobs.anniversary_bonuses(session, NOW) == 1
    assert loyalty_jobs.anniversary_bonuses(session, NOW) == 0
    [greeting] = outbox(session, "anniversary")
    assert greeting.customer_id == customer.id and "2 year(s)" in greeting.body_text


def test_expiry_warning_once_per_expiry(session):
    customer = member(session)
    account = ledger.lock_account(session, customer.id)
    ledger.credit(session, account, "adjust", 70, key="old-lot", now=NOW - timedelta(days=355), expiry_months=12)
    session.commit()
    assert loyalty_jobs.expiry_warnings(session, NOW) == 1
    assert loyalty_jobs.expiry_warnings(session, NOW + timedelta(days=1)) == 0
    [warning] = outbox(session, "points_expiring")
    assert "70 of your points" in warning.body_text
    assert warning.dedupe_key == f"expiring:{customer.id}:2026-12-03"


def test_tier_review_announces_each_downgrade_once(app, session):
    silver = session.scalar(select(Tier).where(Tier.name == "Silver"))
    customer = member(session)
    account = session.get(Account, customer.id)
    account.tier_id = silver.id
    session.commit()
    assert run_job(app, "tier-review", now=NOW) == 1
    assert run_job(app, "tier-review", now=NOW) == 0
    [message] = outbox(session, "tier_changed")
    change = session.scalar(select(TierChange).where(TierChange.customer_id == customer.id))
    assert message.dedupe_key == f"tier:{change.id}" and "Bronze" in message.body_text


def test_order_events_queue_their_messages(session):
    save_settings(session, notify_statuses="awaiting_parts")
    technician = factories.staff(role="technician")
    customer = factories.customer(email="owner@example.com")
    order = factories.order(customer)
    order_service.change_status(session, order, "diagnosing", actor=technician)
    order_service.change_status(session, order, "awaiting_parts", actor=technician)
    order_service.change_status(session, order, "in_repair", actor=technician)
    order_service.change_status(session, order, "ready", actor=technician)
    session.commit()
    events = [row.event for row in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert events == ["order_received", "status_changed", "ready_for_pickup"]
    [ready] = outbox(session, "ready_for_pickup")
    assert ready.address == "owner@example.com" and order.number in ready.body_text
    assert f"/t/{order.tracking_token}" in ready.body_text


def test_every_job_is_registered_and_the_scheduler_runs_each_alone(app):
    names = set(discover())
    assert {"dispatch", "birthday-bonuses", "anniversary-bonuses", "expire-points", "expiry-warnings",
            "tier-review"} <= names
    scheduler = build(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == names
    assert all(job.coalesce and job.max_instances == 1 and job.misfire_grace_time >= 600 for job in jobs.values())


def test_run_job_from_the_command_line_as_of_a_day(app, session):
    customer = member(session, birthday=date(1990, 6, 1))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "run-job", "birthday-bonuses", "--as-of", "2026-06-02"])
    assert result.exit_code == 0, result.output
    assert "birthday-bonuses: 1" in result.output
    assert entries(session, f"birthday:{customer.id}:2026") == 1
    unknown = runner.invoke(args=["crm", "run-job", "no-such-job"])
    assert unknown.exit_code != 0 and "No job called" in unknown.output


def test_as_of_is_noon_in_the_shop(app_ctx):
    assert as_of(date(2026, 7, 1)) == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # Kyiv is UTC+3 in summer


@pytest.fixture(autouse=True)
def _program(app, session, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")  # e-mail is configured (nothing is sent here)
    update_program(session, {"welcome_bonus": 50, "birthday_bonus": 100, "anniversary_bonus": 100}, actor=None)
    session.commit()
