"""The manager's wording of a message: saved over the default, reset to it, each change in the change log."""

from sqlalchemy import select

from crm.audit import AuditEntry
from crm.notifications import wording
from crm.notifications.render import find_template


def _log(session):
    return [(e.subject, e.field, e.old_value, e.new_value)
            for e in session.scalars(select(AuditEntry).where(AuditEntry.area == "notifications")
                                     .order_by(AuditEntry.id))]


def test_saving_a_template_writes_what_changed_to_the_change_log(session, make):
    manager = make.staff(role="manager")
    wording.save_template(session, "welcome", "email", "en", subject="Hi", body="Hello {{ customer_name }}",
                          actor=manager)
    wording.save_template(session, "welcome", "email", "en", subject="Hi", body="Hey {{ customer_name }}",
                          actor=manager)
    assert find_template(session, "welcome", "email", "en").body == "Hey {{ customer_name }}"
    assert wording.customised(session) == {("welcome", "email", "en")}
    subject = "message_template:welcome:email:en"
    assert _log(session) == [(subject, "subject", "", "Hi"), (subject, "body", "", "Hello {{ customer_name }}"),
                             (subject, "body", "Hello {{ customer_name }}", "Hey {{ customer_name }}")]


def test_resetting_goes_back_to_the_default_once_and_is_logged(session, make):
    manager = make.staff(role="manager")
    wording.save_template(session, "welcome", "sms", "en", subject="", body="Hi", actor=manager)
    assert wording.reset_template(session, "welcome", "sms", "en", actor=manager) is True
    assert wording.reset_template(session, "welcome", "sms", "en", actor=manager) is False
    assert find_template(session, "welcome", "sms", "en") is None and wording.customised(session) == set()
    assert _log(session)[-1] == ("message_template:welcome:sms:en", "reset", "Hi", "")
