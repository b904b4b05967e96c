"""Staff account rules: creation, passwords, login with a per-account lock and a per-client limit, session rotation."""

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import parse as parse_limit
from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from crm.audit import record, record_change
from crm.auth.models import LoginFailure, Role, StaffUser, new_session_token
from crm.auth.passwords import hash_password, needs_rehash, verify_nothing, verify_password
from crm.database import utcnow
from crm.errors import RuleError
from crm.locales import lazy_gettext as _l
from crm.locales import lazy_ngettext as _ln

MIN_PASSWORD_LENGTH = 10


class AuthError(RuleError):
    """A rule about staff accounts was broken; the message is safe to show."""


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(
            _ln("Use at least %(num)d character.", "Use at least %(num)d characters.", MIN_PASSWORD_LENGTH),
            field="password"
        )


def find_by_username(session: Session, username: str) -> StaffUser | None:
    return session.scalar(
        select(StaffUser).where(StaffUser.username == username.strip().lower())
    )


def create_staff(session: Session, *, username: str, full_name: str, role: str, password: str,
                 language: str | None = None, actor: StaffUser | None = None) -> StaffUser:
    """Create an active staff account (a line in the audit log). Usernames are stored lower-case, so the UNIQUE
    constraint makes them unique regardless of case even when two managers create "Olena" and "olena" at once."""
    username = username.strip().lower()
    Role(role)
    if find_by_username(session, username) is not None:
        raise AuthError(_l("This username is already taken."), field="username")
    check_password_strength(password)
    user = StaffUser(
        username=username,
        full_name=full_name.strip(),
        role=role,
        password_hash=hash_password(password),
        is_active_account=True,
        language=language or None,
    )
    session.add(user)
    session.flush()
    record(session, actor, "create", "staff", user.username, {"role": str(role)}, area="staff")
    return user


def update_staff(session: Session, user: StaffUser, *, full_name: str, role: str, active: bool,
                 acting: StaffUser, language: str | None = None, commission_basis_points: int | None = None,
                 now: datetime | None = None) -> None:
    """Change name, role, active flag, interface language and the commission rate (None: kept). A manager cannot
    demote or deactivate themselves, so a shop can never lock itself out of its own staff page. Each changed value
    is a line in the audit log."""
    Role(role)
    if user.id == acting.id and (role != Role.MANAGER or not active):
        raise AuthError(_l("You cannot remove your own manager access."), field="role")
    if commission_basis_points is not None:
        set_commission(session, user, commission_basis_points, actor=acting, now=now)
    if user.is_active_account and not active:
        user.session_token = new_session_token()
    new = {"full_name": full_name.strip(), "role": str(role), "is_active_account": active,
           "language": language or None}
    for name, value in new.items():
        if getattr(user, name) != value:
            record_change(session, f"staff:{user.username}", name, getattr(user, name), value, acting, area="staff")
            setattr(user, name, value)
    session.flush()


def set_commission(session: Session, user: StaffUser, basis_points: int, *, actor: StaffUser | None,
                   now: datetime | None = None) -> None:
    """The rate of the staff report's commission estimate, in basis points of paid labour (0 to 10000 = 100 %);
    a change is written to the change log."""
    if not isinstance(basis_points, int) or not 0 <= basis_points <= 10_000:
        raise AuthError(_l("A percentage is between 0 and 100."), field="commission")
    if basis_points != user.commission_basis_points:
        record_change(session, f"staff:{user.username}", "commission_basis_points", user.commission_basis_points,
                      basis_points, actor, now or utcnow())
        user.commission_basis_points = basis_points
    session.flush()


def set_language(session: Session, user: StaffUser, language: str | None) -> None:
    """The interface language this person reads (None: the browser's, else the shop's)."""
    user.language = language or None
    session.flush()


def set_password(session: Session, user: StaffUser, password: str, *, actor: StaffUser | None = None) -> None:
    """Set a new password; every existing session of that account ends. A line in the audit log (``actor``: who
    set it; the account itself when one changes one's own)."""
    check_password_strength(password)
    record(session, actor, "password_set", "staff", user.username, area="staff")
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    user.failed_logins = 0
    user.locked_until = None
    session.flush()


def change_own_password(session: Session, user: StaffUser, current_password: str, new_password: str) -> None:
    """A staff member changes their own password; the current one is asked again, so an unattended
    logged-in browser is not enough to take the account over."""
    if not verify_password(user.password_hash, current_password):
        raise AuthError(_l("This is not your current password."), field="current_password")
    set_password(session, user, new_password, actor=user)


@dataclass(frozen=True)
class LoginPolicy:
    """How many wrong passwords in a row lock an account and for how long; how many failed logins one client
    may make within a window before it must wait."""

    max_failures: int
    lockout: timedelta
    address_limit: int
    address_window: timedelta

    @classmethod
    def from_config(cls, config: Mapping) -> "LoginPolicy":
        """From LOGIN_MAX_FAILURES, LOGIN_LOCKOUT_MINUTES and LOGIN_RATE_LIMIT ("10 per minute", the syntax of
        Flask-Limiter's limits)."""
        limit = parse_limit(config["LOGIN_RATE_LIMIT"])
        return cls(max_failures=config["LOGIN_MAX_FAILURES"],
                   lockout=timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"]),
                   address_limit=limit.amount, address_window=timedelta(seconds=limit.get_expiry()))


class TooManyAttempts(AuthError):
    """This client failed too often within the window; no password is checked until it has waited."""


def client_key(address: str | None) -> str:
    """Whom failed logins are counted against: the IPv4 address, or the /64 network of an IPv6 address (a
    household or a server gets a whole /64, so one guesser could use a new address for every guess)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return (address or "unknown")[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def _failures_from(session: Session, client: str, since: datetime) -> int:
    return session.scalar(select(func.count()).select_from(LoginFailure)
                          .where(LoginFailure.address == client, LoginFailure.failed_at > since))


def _record_failure(session: Session, client: str, user: StaffUser | None, policy: LoginPolicy,
                    now: datetime) -> None:
    """Keep the failure, and forget those no rule looks at any more (older than both windows)."""
    horizon = now - max(policy.address_window, policy.lockout)
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at < horizon))
    session.add(LoginFailure(address=client, staff_id=user.id if user else None, failed_at=now))


def is_locked(user: StaffUser, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def _held_back(session: Session, user: StaffUser, client: str, policy: LoginPolicy, now: datetime) -> bool:
    """A lock holds back only the clients that failed on this account within the lockout period: whoever
    guessed cannot shut the real user out, who still logs in from a desk that has not failed."""
    if not is_locked(user, now):
        return False
    return session.scalar(select(exists().where(LoginFailure.staff_id == user.id, LoginFailure.address == client,
                                                LoginFailure.failed_at > now - policy.lockout)))


def authenticate(session: Session, username: str, password: str, *, address: str | None, policy: LoginPolicy,
                 now: datetime | None = None) -> StaffUser:
    """Return the account for a correct username and password, tried from client ``address``.

    A client that failed ``policy.address_limit`` times within ``policy.address_window`` is refused before any
    password is checked (TooManyAttempts); the failures are rows in the database, so the limit holds across
    workers. After ``policy.max_failures`` wrong passwords in a row the account is locked for ``policy.lockout``
    against the clients that failed on it (see _held_back). Every other failure (unknown username, wrong
    password, locked or deactivated account) gets the same message after the same work, one password
    verification, so neither the answer nor its time tells which usernames exist or that a locked or
    deactivated account's password was right.

    The account row is locked before its counter is read (SQLite: the write transaction's BEGIN
    IMMEDIATE), so parallel guesses queue and at most ``max_failures`` of them reach the password check.
    """
    now = now or utcnow()
    client = client_key(address)
    if _failures_from(session, client, since=now - policy.address_window) >= policy.address_limit:
        raise TooManyAttempts(_l("Too many attempts from this address. Please wait a few minutes and try again."))
    user = session.scalar(
        select(StaffUser).where(StaffUser.username == username.strip().lower())
        .with_for_update().execution_options(populate_existing=True)
    )
    wrong = AuthError(_l("Wrong username or password."))
    refused = user is None or not user.is_active_account or user.is_api_actor  # an API token's actor: never
    if refused or _held_back(session, user, client, policy, now):
        verify_nothing(password)  # the response time must not tell either
        _record_failure(session, client, user, policy, now)
        raise wrong
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= policy.max_failures:
            user.locked_until = now + policy.lockout
            user.failed_logins = 0
        _record_failure(session, client, user, policy, now)
        session.flush()
        raise wrong
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if not is_locked(user, now):  # a login through the lock leaves it in place for the guesser
        user.failed_logins = 0
        user.locked_until = None
    user.last_login_at = now
    session.flush()
    return user


def unlock(session: Session, user: StaffUser, *, actor: StaffUser, now: datetime | None = None) -> bool:
    """A manager lifts an account's lock before it ends; the change log records who did it. Returns False
    (and changes nothing) when the account is not locked."""
    now = now or utcnow()
    if not is_locked(user, now):
        return False
    record_change(session, f"staff:{user.username}", "locked_until", user.locked_until.isoformat(timespec="minutes"),
                  None, actor, now)
    user.locked_until = None
    user.failed_logins = 0
    session.flush()
    return True


def end_sessions(session: Session, user: StaffUser) -> None:
    """Invalidate every session cookie issued to this account (used at logout)."""
    user.session_token = new_session_token()
    session.flush()


def list_staff(session: Session) -> list[StaffUser]:
    """The staff accounts (not the API tokens' actors, see crm.api.tokens), active ones first."""
    return list(session.scalars(select(StaffUser).where(StaffUser.is_api_actor.is_(False))
                                .order_by(StaffUser.is_active_account.desc(), StaffUser.full_name)))


# Built once: the order list and every order form run it.
_ACTIVE_TECHNICIANS = (select(StaffUser)
                       .where(StaffUser.is_active_account.is_(True), StaffUser.is_api_actor.is_(False),
                              StaffUser.role.in_([Role.TECHNICIAN, Role.MANAGER]))
                       .order_by(StaffUser.full_name))


def active_technicians(session: Session) -> list[StaffUser]:
    """Who can be given a repair: active technicians and managers (not API actors), by name."""
    return list(session.scalars(_ACTIVE_TECHNICIANS))
