"""The outbox and the dispatcher against a real SMTP server on loopback (aiosmtpd)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crm.customers import contact
from crm.notifications import dispatch as dispatcher
from crm.notifications.models import OutboxMessage
from crm.notifications.outbox import Recipient, after_quiet_hours, choose_channel, enqueue
from crm.notifications.settings import save_settings
from tests import factories
from tests.factories.sales import run_at_once
from tests.notifications.conftest import free_port

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 14:00 in Kyiv


@pytest.fixture
def mail(app, smtp_server, monkeypatch):
    for key, value in smtp_server.config().items():
        monkeypatch.setitem(app.config, key, value)
    return smtp_server


def _person(**kw) -> Recipient:
    values = dict(customer_id=None, name="Olena", email="olena@example.com", phone="+380671234567",
                  marketing_consent=True, unsubscribe_url="http://shop.example/u/x")
    values.update(kw)
    return Recipient(**values)


def _rows(session):
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_message_goes_out_once_as_text_and_html(session, mail):
    customer = factories.customer(name="Taras <b>", email="taras@example.com")
    row = enqueue(session, contact.recipient(customer), "welcome",
                  {"customer_name": customer.name, "points_balance": 50, "referral_code": "K7PQ2M"}, now=NOW)
    session.commit()
    assert dispatcher.dispatch(session, now=NOW).sent == 1
    assert dispatcher.dispatch(session, now=NOW + timedelta(hours=1)).claimed == 0
    assert len(mail.messages) == 1
    received = mail.messages[0].message()
    assert received["To"] == "taras@example.com"
    assert received["Message-ID"] == f"<outbox-{row.id}@repair.example>"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert "Taras <b>" in text and "Taras &lt;b&gt;" in html and "K7PQ2M" in text
    session.refresh(row)
    assert (row.status, row.attempts, row.provider_id) == ("sent", 1, received["Message-ID"])


def test_a_rolled_back_change_sends_nothing(session, mail):
    customer = factories.customer(email="a@example.com")
    session.commit()
    enqueue(session, contact.recipient(customer), "welcome", {"points_balance": 0, "referral_code": "X"}, now=NOW)
    session.rollback()
    assert dispatcher.dispatch(session, now=NOW).claimed == 0
    assert mail.messages == []


def test_smtp_down_then_up_delivers_once(app, session, mail, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there: the server is down
    row = enqueue(session, _person(), "welcome", {"points_balance": 5, "referral_code": "X"}, now=NOW)
    session.commit()
    first = dispatcher.dispatch(session, now=NOW)
    assert (first.retrying, first.sent) == (1, 0)
    session.refresh(row)
    assert row.status == "pending" and row.attempts == 1 and row.last_error
    assert row.next_attempt_at == NOW + timedelta(seconds=60)
    assert dispatcher.dispatch(session, now=NOW + timedelta(seconds=30)).claimed == 0  # not yet due

    monkeypatch.setitem(app.config, "MAIL_PORT", mail.port)  # the server is back
    assert dispatcher.dispatch(session, now=NOW + timedelta(seconds=61)).sent == 1
    assert dispatcher.dispatch(session, now=NOW + timedelta(days=1)).claimed == 0
    assert len(mail.messages) == 1
    session.refresh(row)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")


def test_retries_back_off_exponentially_then_fail_with_the_reason(session, mail):
    save_settings(session, max_attempts=3)
    mail.refuse_with = "451 4.3.0 try later"
    row = enqueue(session, _person(), "welcome", {"points_balance": 5, "referral_code": "X"}, now=NOW)
    session.commit()
    at = NOW
    waits = []
    for _ in range(3):
        dispatcher.dispatch(session, now=at)
        session.refresh(row)
        waits.append(row.next_attempt_at - at)
        at = row.next_attempt_at
    assert waits[:2] == [timedelta(seconds=60), timedelta(seconds=120)]
    assert row.status == "failed" and row.attempts == 3 and "451" in row.last_error
    assert dispatcher.dispatch(session, now=at + timedelta(days=1)).claimed == 0

    mail.refuse_with = None  # the manager retries once the cause is fixed
    assert dispatcher.retry(session, row.id, now=at)
    session.commit()
    assert dispatcher.dispatch(session, now=at).sent == 1
    assert len(mail.messages) == 1


def test_a_permanent_refusal_fails_at_once(session, mail):
    mail.refuse_with = "550 5.1.1 no such user"
    row = enqueue(session, _person(), "welcome", {"points_balance": 5, "referral_code": "X"}, now=NOW)
    session.commit()
    assert dispatcher.dispatch(session, now=NOW).failed == 1
    session.refresh(row)
    assert row.status == "failed" and row.attempts == 1 and "550" in row.last_error


def test_a_sent_message_is_never_retried(session, mail):
    row = enqueue(session, _person(), "welcome", {"points_balance": 5, "referral_code": "X"}, now=NOW)
    session.commit()
    dispatcher.dispatch(session, now=NOW)
    assert not dispatcher.retry(session, row.id)
    assert dispatcher.dispatch(session, now=NOW + timedelta(days=30)).claimed == 0
    assert len(mail.messages) == 1


def test_an_abandoned_claim_is_taken_again_after_its_lease(session, mail):
    row = enqueue(session, _person(), "welcome", {"points_balance": 5, "referral_code": "X"}, now=NOW)
    session.commit()
    dispatcher.claim(session, now=NOW, limit=10)  # a dispatcher that died before sending
    assert dispatcher.dispatch(session, now=NOW + timedelta(minutes=1)).claimed == 0
    assert dispatcher.dispatch(session, now=NOW + dispatcher.LEASE + timedelta(seconds=1)).sent == 1
    session.refresh(row)
    assert row.attempts == 2 and len(mail.messages) == 1


def test_two_dispatchers_at_once_send_each_message_once(app, session, mail):
    ids = [enqueue(session, _person(email=f"c{n}@example.com"), "welcome",
                   {"points_balance": n, "referral_code": "X"}, now=NOW).id for n in range(30)]
    session.commit()
    results = run_at_once(app, *[lambda s: dispatcher.dispatch(s, now=NOW, limit=10) for _ in range(3)],
                          *[lambda s: dispatcher.dispatch(s, now=NOW) for _ in range(2)])
    assert sum(r.sent for r in results) == 30
    assert sorted(m.rcpt_tos[0] for m in mail.messages) == sorted(f"c{n}@example.com" for n in range(30))
    assert {r.status for r in _rows(session)} == {"sent"} and len(ids) == 30


def test_no_consent_or_no_channel_is_recorded_with_the_reason(session, mail):
    no_service = enqueue(session, _person(service_consent=False), "welcome", {}, now=NOW)
    no_marketing = enqueue(session, _person(marketing_consent=False), "birthday", {}, now=NOW)
    no_address = enqueue(session, _person(email=None, phone=None), "welcome", {}, now=NOW)
    session.commit()
    assert [r.status for r in (no_service, no_marketing, no_address)] == ["skipped"] * 3
    assert "service messages" in no_service.last_error
    assert "marketing" in no_marketing.last_error
    assert "no address" in no_address.last_error
    assert dispatcher.dispatch(session, now=NOW).claimed == 0 and mail.messages == []


def test_the_channel_follows_the_preference_then_what_can_be_used():
    person = _person(telegram_chat_id="42")
    assert choose_channel(person, {"email", "sms", "telegram"}) == ("telegram", "")
    assert choose_channel(_person(preferred_channel="sms", telegram_chat_id="42"), {"email", "sms", "telegram"}) \
        == ("sms", "")
    assert choose_channel(_person(preferred_channel="telegram"), {"email", "sms"}) == ("email", "")
    assert choose_channel(person, set())[0] is None


def test_the_same_cause_queues_one_message(session, mail):
    first = enqueue(session, _person(), "welcome", {}, dedupe_key="welcome:1", now=NOW)
    again = enqueue(session, _person(), "welcome", {}, dedupe_key="welcome:1", now=NOW)
    session.commit()
    assert first.id == again.id and len(_rows(session)) == 1


def test_marketing_waits_out_the_quiet_hours_in_shop_time(session, mail):
    late = datetime(2026, 11, 23, 20, 30, tzinfo=UTC)  # 22:30 in Kyiv (UTC+2)
    row = enqueue(session, _person(), "birthday", {"bonus_points": 100, "points_balance": 100}, now=late)
    service = enqueue(session, _person(), "welcome", {}, now=late)
    session.commit()
    assert row.next_attempt_at == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 09:00 in Kyiv
    assert service.next_attempt_at == late
    assert dispatcher.dispatch(session, now=late).sent == 1  # only the service message
    assert dispatcher.dispatch(session, now=row.next_attempt_at).sent == 1
    body = mail.messages[1].message()
    assert body["List-Unsubscribe"] == "<http://shop.example/u/x>"
    assert "http://shop.example/u/x" in body.get_body(("plain",)).get_content()


@pytest.mark.parametrize(("local", "expected"), [
    ("12:00", "12:00"), ("21:00", "09:00+1"), ("23:59", "09:00+1"), ("00:30", "09:00"), ("08:59", "09:00"),
    ("09:00", "09:00"),
])
def test_quiet_hours_across_midnight(app_ctx, local, expected):
    from zoneinfo import ZoneInfo
    tz = ZoneInfo("Europe/Kyiv")
    hour, minute = map(int, local.split(":"))
    moment = datetime(2026, 7, 1, hour, minute, tzinfo=tz)
    clock, _, plus = expected.partition("+")
    eh, em = map(int, clock.split(":"))
    want = datetime(2026, 7, 1 + int(plus or 0), eh, em, tzinfo=tz)
    if expected == local:
        want = moment
    assert after_quiet_hours(moment.astimezone(UTC), 21 * 60, 9 * 60) == want


def test_a_dispatch_round_sends_its_e_mails_over_one_connection(session, mail):
    for n in range(5):
        enqueue(session, _person(email=f"r{n}@example.com"), "welcome", {}, now=NOW)
    session.commit()
    assert dispatcher.dispatch(session, now=NOW).sent == 5
    assert len({m.peer for m in mail.messages}) == 1
    enqueue(session, _person(email="later@example.com"), "welcome", {}, now=NOW)
    session.commit()
    dispatcher.dispatch(session, now=NOW)
    assert len({m.peer for m in mail.messages}) == 2  # the next round opens its own


def test_a_refused_recipient_does_not_stop_the_rest_of_the_round(session, mail):
    enqueue(session, _person(email="first@example.com"), "welcome", {}, now=NOW)
    enqueue(session, _person(email="bad@nowhere.invalid"), "welcome", {}, now=NOW)
    enqueue(session, _person(email="third@example.com"), "welcome", {}, now=NOW)
    session.commit()
    mail.refuse_addresses["bad@nowhere.invalid"] = "550 5.1.1 no such user"
    result = dispatcher.dispatch(session, now=NOW)
    assert (result.sent, result.failed) == (2, 1)
    assert sorted(m.rcpt_tos[0] for m in mail.messages) == ["first@example.com", "third@example.com"]


def test_quiet_hours_end_at_nine_shop_time_across_the_spring_clock_change(app_ctx):
    # Kyiv moves from UTC+2 to UTC+3 at 03:00 on 29 March 2026: 22:00 the evening before is 20:00 UTC,
    # and 09:00 the next morning is 06:00 UTC (not 07:00).
    evening = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)
    assert after_quiet_hours(evening, 21 * 60, 9 * 60) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    autumn = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)  # 23:00 before the change back to UTC+2
    assert after_quiet_hours(autumn, 21 * 60, 9 * 60) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
