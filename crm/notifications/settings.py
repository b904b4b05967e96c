"""The notification settings row: read with defaults until the manager first saves it."""

from sqlalchemy.orm import Session

from crm.audit import record_change
from crm.auth.models import StaffUser
from crm.database import utcnow
from crm.notifications.models import NotificationSettings

DEFAULTS = dict(notify_statuses="awaiting_approval,awaiting_parts,cancelled", quiet_start_minute=21 * 60,
                quiet_end_minute=9 * 60, max_attempts=6, catch_up_days=7, telegram_update_offset=0)
UNAUDITED = {"telegram_update_offset"}


def get_settings(session: Session) -> NotificationSettings:
    """The saved settings, or an unsaved row holding the defaults (never added to the session)."""
    row = session.get(NotificationSettings, 1)
    return row if row is not None else NotificationSettings(id=1, **DEFAULTS)


def notify_statuses(settings: NotificationSettings) -> set[str]:
    return {s for s in settings.notify_statuses.split(",") if s}


def save_settings(session: Session, *, actor: StaffUser | None = None, **values) -> NotificationSettings:
    """Save some settings; each one that changes is a line in the audit log (not the Telegram polling offset,
    which the polling job keeps)."""
    now = utcnow()
    row = session.get(NotificationSettings, 1)
    if row is None:
        row = NotificationSettings(id=1, **DEFAULTS)
        session.add(row)
    for name, value in values.items():
        if name not in DEFAULTS:
            raise ValueError(f"unknown setting {name}")
        if name not in UNAUDITED and getattr(row, name) != value:
            record_change(session, "notification_settings", name, getattr(row, name), value, actor, now,
                          area="notifications")
        setattr(row, name, value)
    row.updated_at = now
    session.flush()
    return row


# The order statuses a manager may choose to message; crm.orders registers them (notifications
# imports no other module).
_status_choices = []


def register_status_choices(pairs) -> None:
    _status_choices[:] = list(pairs)


def status_choices() -> list:
    return list(_status_choices)
