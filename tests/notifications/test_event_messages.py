"""What the shop's events queue, and every channel through the whole outbox to a loopback server."""

import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm import scheduler
from crm.auth.models import Role
from crm.loyalty import accounts, ledger
from crm.loyalty.models import Account, LedgerEntry, Tier, TierChange
from crm.loyalty.program import update_program
from crm.notifications import dispatch as dispatcher
from crm.notifications.models import OutboxMessage
from crm.notifications.outbox import Recipient, enqueue
from crm.sales import checkout
from tests import factories
from tests.factories.sales import pay, ready_order, run_at_once, staff_member

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _email_configured(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")


def _events(session, customer_id: int) -> list[str]:
    return list(session.scalars(select(OutboxMessage.event).where(OutboxMessage.customer_id == customer_id)
                                .order_by(OutboxMessage.id)))


def test_paying_a_repair_tells_the_customer_the_points_and_a_new_tier(session):
    update_program(session, {"welcome_bonus": 20}, actor=None)
    silver = session.scalar(select(Tier).where(Tier.name == "Silver"))
    silver.min_spend_minor = 100_000
    customer = factories.customer(email="buyer@example.com", marketing_consent=True)
    accounts.enrol(session, customer)
    desk = staff_member(session, Role.FRONT_DESK)
    order = ready_order(session, lines=(("labour", 1, 120_000),), customer=customer)
    sale = pay(session, checkout.sale_for_repair(session, order.id, actor=desk).id, actor=desk)
    session.commit()
    assert _events(session, customer.id) == ["welcome", "order_received", "ready_for_pickup", "tier_changed",
                                             "picked_up"]
    picked = session.scalar(select(OutboxMessage).where(OutboxMessage.event == "picked_up"))
    assert sale.points_earned > 0
    assert f"You earned {sale.points_earned} points" in picked.body_text
    assert f"your balance is {sale.points_balance_after} points" in picked.body_text
    tier = session.scalar(select(OutboxMessage).where(OutboxMessage.event == "tier_changed"))
    assert "you have reached Silver" in tier.body_text


def test_a_failed_checkout_queues_nothing(session):
    customer = factories.customer(email="x@example.com")
    desk = staff_member(session, Role.FRONT_DESK)
    order = ready_order(session, customer=customer)
    session.commit()
    before = _events(session, customer.id)
    sale = checkout.sale_for_repair(session, order.id, actor=desk)
    with pytest.raises(checkout.CheckoutError):
        pay(session, sale.id, actor=desk, expected_total=1)  # the total changed: refused
    session.rollback()
    assert _events(session, customer.id) == before


def test_sms_through_the_outbox_to_the_gateway(app, session, http_recorder, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", http_recorder.url + "/send")
    monkeypatch.setitem(app.config, "SMS_GATEWAY_AUTH_HEADER", "Authorization: Bearer sms-key")
    monkeypatch.setitem(app.config, "SMS_GATEWAY_BODY", '{"recipient": "{to}", "message": "{text}", "ref": "{id}"}')
    person = Recipient(customer_id=None, name="Olha", phone="+380671234567", email="o@example.com")
    row = enqueue(session, person, "order_received", {"order_number": "R-1", "device": 'Phone "Pixel"'}, now=NOW)
    session.commit()
    http_recorder.respond(503, {"error": "busy"})
    assert dispatcher.dispatch(session, now=NOW).retrying == 1
    assert dispatcher.dispatch(session, now=NOW + timedelta(minutes=2)).sent == 1
    assert len(http_recorder.requests) == 2
    sent = http_recorder.requests[-1]
    assert sent.headers["Authorization"] == "Bearer sms-key"
    assert sent.json["recipient"] == "+380671234567" and sent.json["ref"] == str(row.id)
    assert 'Phone "Pixel"' in sent.json["message"] and "R-1" in sent.json["message"]


def test_telegram_through_the_outbox(app, session, http_recorder, monkeypatch):
    monkeypatch.setitem(app.config, "TELEGRAM_BOT_TOKEN", "123:secret-token")
    monkeypatch.setitem(app.config, "TELEGRAM_API_BASE", http_recorder.url)
    person = Recipient(customer_id=None, name="Olha", email="o@example.com", telegram_chat_id="555")
    row = enqueue(session, person, "ready_for_pickup", {"order_number": "R-2", "device": "Laptop"}, now=NOW)
    session.commit()
    assert row.channel == "telegram"
    assert dispatcher.dispatch(session, now=NOW).sent == 1
    [request] = http_recorder.requests
    assert request.path == "/bot123:secret-token/sendMessage"
    assert request.json["chat_id"] == "555" and "R-2" in request.json["text"]
    session.refresh(row)
    assert row.provider_id == "1"


def _due_for_every_job(session) -> dict[str, int]:
    """One customer due for each daily job; returns the customer ids by job."""
    update_program(session, {"welcome_bonus": 0}, actor=None)
    ids = {}
    birthday = factories.customer(birthday=date(1990, 11, 23), marketing_consent=True, email="b@example.com")
    accounts.enrol(session, birthday, now=NOW - timedelta(days=5))
    ids["birthday-bonuses"] = birthday.id
    veteran = factories.customer(email="v@example.com", marketing_consent=True)
    account = accounts.enrol(session, veteran, now=NOW - timedelta(days=800))
    account.first_purchase_at, account.first_purchase_mmdd = datetime(2025, 11, 23, 9, tzinfo=UTC), 1123
    ids["anniversary-bonuses"] = veteran.id
    expiring = factories.customer(email="e@example.com")
    account = accounts.enrol(session, expiring, now=NOW - timedelta(days=360))
    ledger.credit(session, account, "adjust", 40, key="lot-soon", now=NOW - timedelta(days=360), expiry_months=12)
    ids["expiry-warnings"] = expiring.id
    expired = factories.customer()
    account = accounts.enrol(session, expired, now=NOW - timedelta(days=400))
    ledger.credit(session, account, "adjust", 30, key="lot-gone", now=NOW - timedelta(days=400), expiry_months=12)
    ids["expire-points"] = expired.id
    fallen = factories.customer(email="f@example.com")
    account = accounts.enrol(session, fallen, now=NOW - timedelta(days=30))
    account.tier_id = session.scalar(select(Tier.id).where(Tier.name == "Gold"))
    ids["tier-review"] = fallen.id
    session.commit()
    return ids


def _effects(session, job: str, customer_id: int) -> int:
    count_entries = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.customer_id == customer_id)
    count_messages = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.customer_id == customer_id)
    if job == "birthday-bonuses":
        return session.scalar(count_entries.where(LedgerEntry.idempotency_key.like("birthday:%"))) + \
            session.scalar(count_messages.where(OutboxMessage.event == "birthday"))
    if job == "anniversary-bonuses":
        return session.scalar(count_entries.where(LedgerEntry.idempotency_key.like("anniversary:%"))) + \
            session.scalar(count_messages.where(OutboxMessage.event == "anniversary"))
    if job == "expiry-warnings":
        return session.scalar(count_messages.where(OutboxMessage.event == "points_expiring"))
    if job == "expire-points":
        return session.scalar(count_entries.where(LedgerEntry.kind == "expire"))
    return session.scalar(select(func.count()).select_from(TierChange).where(TierChange.customer_id == customer_id)) \
        + session.scalar(count_messages.where(OutboxMessage.event == "tier_changed"))


EXPECTED = {"birthday-bonuses": 2, "anniversary-bonuses": 2, "expiry-warnings": 1, "expire-points": 1,
            "tier-review": 2}


@pytest.mark.parametrize("job", sorted(EXPECTED))
def test_each_daily_job_twice_and_three_at_once_has_one_effect(app, session, job):
    ids = _due_for_every_job(session)
    run = scheduler.discover()[job].function
    outcomes = run_at_once(app, *[lambda s, run=run: run(s, NOW) for _ in range(3)])
    assert all(not isinstance(o, Exception) for o in outcomes)
    run(session, NOW + timedelta(hours=2))  # and once more, late
    session.commit()
    assert _effects(session, job, ids[job]) == EXPECTED[job]
    balance = session.scalar(select(Account.balance).where(Account.customer_id == ids[job]))
    total = session.scalar(select(func.coalesce(func.sum(LedgerEntry.points), 0))
                           .where(LedgerEntry.customer_id == ids[job]))
    assert balance == total >= 0


def test_the_web_process_starts_the_scheduler_only_when_asked_and_never_under_gunicorn(app, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULER_IN_WEB", True)
    assert not scheduler.should_run_in_web(app)  # tests never start it (app.testing)
    monkeypatch.setattr(app, "testing", False)
    assert scheduler.should_run_in_web(app)
    monkeypatch.setitem(app.config, "SCHEDULER_IN_WEB", False)
    assert not scheduler.should_run_in_web(app)  # not asked
    monkeypatch.setitem(app.config, "SCHEDULER_IN_WEB", True)
    monkeypatch.setitem(sys.modules, "gunicorn", sys.modules[__name__])  # as if gunicorn had loaded the app
    assert not scheduler.should_run_in_web(app)


def test_in_development_the_scheduler_starts_once_at_the_first_request(monkeypatch):
    from crm import create_app
    from crm.extensions import db

    monkeypatch.setattr(scheduler, "_web_scheduler", None)
    web = create_app("development", SQLALCHEMY_DATABASE_URI="sqlite://", SCHEDULER_IN_WEB=True)
    assert scheduler._web_scheduler is None  # building the app (a CLI command, the reloader's watcher)
    client = web.test_client()
    try:
        client.get("/healthz")
        first = scheduler._web_scheduler
        assert first is not None and first.running
        assert {job.id for job in first.get_jobs()} == set(scheduler.discover())
        client.get("/login")
        assert scheduler._web_scheduler is first  # once per process
    finally:
        if scheduler._web_scheduler is not None:
            scheduler._web_scheduler.shutdown(wait=False)
        with web.app_context():
            db.engine.dispose()
