"""The manager's wording of the messages: a template per event, channel and language saved over the shipped
default, or reset to it. Every save and reset is a line in the change log (crm.audit), as loyalty settings are."""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm.audit import record_change
from crm.auth.models import StaffUser
from crm.database import utcnow
from crm.notifications.models import MessageTemplate
from crm.notifications.render import find_template


def _subject(event: str, channel: str, language: str) -> str:
    return f"message_template:{event}:{channel}:{language}"


def customised(session: Session) -> set[tuple[str, str, str]]:
    """(event, channel, language) of every template the shop reworded."""
    return set(session.execute(select(MessageTemplate.event, MessageTemplate.channel, MessageTemplate.language))
               .tuples())


def save_template(session: Session, event: str, channel: str, language: str, *, subject: str, body: str,
                  actor: StaffUser, now: datetime | None = None) -> MessageTemplate:
    """Save the wording (the caller checked it with render.check_template first)."""
    now = now or utcnow()
    saved = find_template(session, event, channel, language)
    old_subject, old_body = (saved.subject, saved.body) if saved else ("", "")
    if saved is None:
        saved = MessageTemplate(event=event, channel=channel, language=language)
        session.add(saved)
    saved.subject, saved.body = subject, body
    saved.updated_by_id, saved.updated_at = actor.id, now
    for field, old, new in (("subject", old_subject, subject), ("body", old_body, body)):
        if old != new:
            record_change(session, _subject(event, channel, language), field, old, new, actor, now)
    session.flush()
    return saved


def reset_template(session: Session, event: str, channel: str, language: str, *, actor: StaffUser,
                   now: datetime | None = None) -> bool:
    """Go back to the default wording; returns whether there was a template to drop."""
    saved = find_template(session, event, channel, language)
    if saved is None:
        return False
    record_change(session, _subject(event, channel, language), "reset", saved.body, "", actor, now or utcnow())
    session.execute(delete(MessageTemplate).where(MessageTemplate.id == saved.id))
    session.flush()
    return True
