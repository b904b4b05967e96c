"""Staff account rules, checked on the service functions without HTTP."""

from datetime import timedelta

import pytest
from argon2 import PasswordHasher, extract_parameters
from argon2.low_level import Type
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm.auth import passwords, service
from crm.auth.models import Role, StaffUser
from crm.auth.passwords import hash_password, needs_rehash, verify_password
from crm.auth.service import MIN_PASSWORD_LENGTH, AuthError
from crm.database import utcnow

PASSWORD = "correct-horse-42"
LOCKOUT = timedelta(minutes=15)


@pytest.fixture
def real_argon2():
    """Ask for this to hash with the production parameters; the other tests use cheap ones, for speed."""


@pytest.fixture(autouse=True)
def _cheap_password_hashing(request, monkeypatch):
    if "real_argon2" not in request.fixturenames:
        monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def login(session, username, password, *, now=None, max_failures=5):
    """Log in from one desk whose own failures never reach the per-address limit (tests/auth/test_login_protection.py
    checks that limit)."""
    policy = service.LoginPolicy(max_failures=max_failures, lockout=LOCKOUT, address_limit=1000,
                                 address_window=timedelta(minutes=1))
    return service.authenticate(session, username, password, address="192.0.2.1", policy=policy, now=now)


def error_of(call, *args, **kwargs) -> AuthError:
    with pytest.raises(AuthError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- passwords -------------------------------------------------------------------------------------------------


def test_password_is_stored_as_an_argon2id_hash_not_in_clear(session, make, real_argon2):
    user = make.staff(username="olena", password=PASSWORD)
    session.commit()
    stored = session.scalar(select(StaffUser.password_hash).where(StaffUser.id == user.id))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "x")


def test_hash_parameters_meet_the_owasp_floor(real_argon2):
    # OWASP Password Storage Cheat Sheet: argon2id with at least 19 MiB of memory and 2 iterations.
    params = extract_parameters(hash_password(PASSWORD))
    assert params.type is Type.ID
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2


def test_the_same_password_hashes_differently_each_time():
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


def test_a_garbage_hash_does_not_verify_and_does_not_raise():
    assert verify_password("not-a-hash", PASSWORD) is False


def test_short_password_is_refused_at_creation(session, make):
    short = "x" * (MIN_PASSWORD_LENGTH - 1)
    error = error_of(make.staff, username="shorty", password=short)
    assert error.field == "password"
    assert session.scalar(select(StaffUser).where(StaffUser.username == "shorty")) is None


def test_password_of_exactly_the_minimum_length_is_accepted(make):
    user = make.staff(password="x" * MIN_PASSWORD_LENGTH)
    assert verify_password(user.password_hash, "x" * MIN_PASSWORD_LENGTH)


def test_short_password_is_refused_by_set_password_and_changes_nothing(session, make):
    user = make.staff(password=PASSWORD)
    old_hash, old_token = user.password_hash, user.session_token
    error = error_of(service.set_password, session, user, "short")
    assert error.field == "password"
    assert (user.password_hash, user.session_token) == (old_hash, old_token)


def test_set_password_rotates_the_session_token_and_replaces_the_hash(session, make):
    user = make.staff(password=PASSWORD)
    old_hash, old_token = user.password_hash, user.session_token
    service.set_password(session, user, "a-brand-new-password")
    assert user.session_token != old_token
    assert user.password_hash != old_hash
    assert login(session, user.username, "a-brand-new-password") is user
    assert str(error_of(login, session, user.username, PASSWORD).message) == "Wrong username or password."


def test_set_password_lifts_a_lockout(session, make):
    user = make.staff(password=PASSWORD)
    now = utcnow()
    for _ in range(3):
        error_of(login, session, user.username, "wrong-password", now=now, max_failures=3)
    assert user.locked_until is not None
    service.set_password(session, user, "a-brand-new-password")
    assert login(session, user.username, "a-brand-new-password", now=now, max_failures=3) is user


def test_old_parameter_hash_is_rehashed_at_login(session, make, real_argon2):
    user = make.staff(password=PASSWORD)
    weak = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    user.password_hash = weak
    session.commit()
    assert needs_rehash(weak)

    login(session, user.username, PASSWORD)
    session.commit()
    session.expire_all()

    stored = session.get(StaffUser, user.id).password_hash
    assert stored != weak
    assert stored.startswith("$argon2id$")
    assert not needs_rehash(stored)
    assert verify_password(stored, PASSWORD)


def test_a_current_hash_is_left_alone_at_login(session, make, real_argon2):
    user = make.staff(password=PASSWORD)
    before = user.password_hash
    login(session, user.username, PASSWORD)
    assert user.password_hash == before


# --- login ------------------------------------------------------------------------------------------------------


def test_correct_password_logs_in_and_records_the_time(session, make):
    user = make.staff(username="olena", password=PASSWORD)
    now = utcnow()
    assert login(session, "olena", PASSWORD, now=now) is user
    assert user.last_login_at == now


def test_login_username_ignores_case_and_surrounding_spaces(session, make):
    user = make.staff(username="Olena", password=PASSWORD)
    assert login(session, "  oLENA ", PASSWORD) is user


def test_wrong_password_fails_with_the_same_message_as_unknown_username(session, make):
    make.staff(username="olena", password=PASSWORD)
    wrong_password = error_of(login, session, "olena", "not-the-password")
    unknown_user = error_of(login, session, "nobody-here", PASSWORD)
    assert str(wrong_password.message) == str(unknown_user.message) == "Wrong username or password."
    assert wrong_password.field == unknown_user.field


def test_unknown_username_costs_a_password_check_like_a_wrong_password(session, make, monkeypatch):
    """Otherwise the response time tells which usernames exist (no argon2 work for an unknown one)."""
    make.staff(username="olena", password=PASSWORD)
    real, checked = passwords._hasher, []

    class Spy:
        def verify(self, password_hash, password):
            checked.append(password)
            return real.verify(password_hash, password)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(passwords, "_hasher", Spy())
    error_of(login, session, "olena", "wrong-one")
    error_of(login, session, "nobody-here", "wrong-two")
    assert checked == ["wrong-one", "wrong-two"]


def test_account_locks_after_max_failures_even_for_the_right_password(session, make):
    user = make.staff(username="olena", password=PASSWORD)
    now = utcnow()
    for _ in range(3):
        error_of(login, session, "olena", "guess", now=now, max_failures=3)
    session.commit()
    session.expire_all()  # the lock lives in the database, not in this process

    locked = error_of(login, session, "olena", PASSWORD, now=now + timedelta(minutes=1), max_failures=3)
    assert str(locked.message) == "Wrong username or password."  # a lock is not told apart from a wrong password
    assert session.get(StaffUser, user.id).locked_until == now + LOCKOUT


def test_fewer_failures_than_the_limit_do_not_lock(session, make):
    user = make.staff(username="olena", password=PASSWORD)
    now = utcnow()
    for _ in range(2):
        error_of(login, session, "olena", "guess", now=now, max_failures=3)
    assert login(session, "olena", PASSWORD, now=now, max_failures=3) is user


def test_a_successful_login_resets_the_failure_count(session, make):
    user = make.staff(username="olena", password=PASSWORD)
    now = utcnow()
    for _ in range(2):
        error_of(login, session, "olena", "guess", now=now, max_failures=3)
    login(session, "olena", PASSWORD, now=now, max_failures=3)
    assert user.failed_logins == 0
    for _ in range(2):
        error_of(login, session, "olena", "guess", now=now, max_failures=3)
    assert login(session, "olena", PASSWORD, now=now, max_failures=3) is user


def test_lock_expires_after_the_lockout_period(session, make):
    user = make.staff(username="olena", password=PASSWORD)
    now = utcnow()
    for _ in range(3):
        error_of(login, session, "olena", "guess", now=now, max_failures=3)
    error_of(login, session, "olena", PASSWORD, now=now + LOCKOUT - timedelta(seconds=1), max_failures=3)
    assert login(session, "olena", PASSWORD, now=now + LOCKOUT + timedelta(seconds=1), max_failures=3) is user
    assert user.locked_until is None


def test_lockout_is_per_account(session, make):
    make.staff(username="olena", password=PASSWORD)
    other = make.staff(username="taras", password=PASSWORD)
    now = utcnow()
    for _ in range(3):
        error_of(login, session, "olena", "guess", now=now, max_failures=3)
    assert login(session, "taras", PASSWORD, now=now, max_failures=3) is other


def test_deactivated_account_cannot_log_in(session, make):
    user = make.staff(username="olena", password=PASSWORD)
    user.is_active_account = False
    session.flush()
    error = error_of(login, session, "olena", PASSWORD)
    assert str(error.message) == "Wrong username or password."  # not "deactivated": that says the password is right
    assert user.last_login_at is None


# --- accounts ---------------------------------------------------------------------------------------------------


def test_username_is_unique_regardless_of_case(session, make):
    make.staff(username="Olena", password=PASSWORD)
    error = error_of(make.staff, username="oLENA", password=PASSWORD)
    assert error.field == "username"
    assert session.scalar(select(StaffUser).where(StaffUser.username == "oLENA")) is None


def test_usernames_are_stored_lower_case_so_the_unique_constraint_ignores_case(session, make):
    user = make.staff(username="Olena", password=PASSWORD)
    assert user.username == "olena"
    session.add(StaffUser(username="olena", full_name="Racing twin", role="technician", password_hash="x"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_create_staff_trims_the_username_and_full_name(make):
    user = make.staff(username="  olena ", full_name="  Olena Kovalenko  ")
    assert (user.username, user.full_name) == ("olena", "Olena Kovalenko")
    assert user.is_active_account


def test_unknown_role_is_refused(make):
    with pytest.raises(ValueError):
        make.staff(role="owner")


def test_manager_cannot_remove_their_own_manager_role(session, make):
    manager = make.staff(role=Role.MANAGER)
    error = error_of(service.update_staff, session, manager, full_name="Me", role=Role.TECHNICIAN, active=True,
                     acting=manager)
    assert "own manager access" in str(error.message)
    assert manager.role == Role.MANAGER


def test_manager_cannot_deactivate_themselves(session, make):
    manager = make.staff(role=Role.MANAGER)
    token = manager.session_token
    error_of(service.update_staff, session, manager, full_name="Me", role=Role.MANAGER, active=False,
             acting=manager)
    assert manager.is_active_account
    assert manager.session_token == token


def test_manager_can_rename_themselves(session, make):
    manager = make.staff(role=Role.MANAGER)
    service.update_staff(session, manager, full_name="New Name", role=Role.MANAGER, active=True, acting=manager)
    assert manager.full_name == "New Name"


def test_another_manager_can_demote_a_manager(session, make):
    acting = make.staff(role=Role.MANAGER)
    other = make.staff(role=Role.MANAGER)
    service.update_staff(session, other, full_name=other.full_name, role=Role.FRONT_DESK, active=True, acting=acting)
    assert other.role == Role.FRONT_DESK


def test_deactivating_an_account_ends_its_sessions(session, make):
    manager = make.staff(role=Role.MANAGER)
    tech = make.staff(role=Role.TECHNICIAN)
    token = tech.session_token
    service.update_staff(session, tech, full_name=tech.full_name, role=tech.role, active=False, acting=manager)
    assert not tech.is_active_account
    assert tech.session_token != token


def test_end_sessions_rotates_the_token(session, make):
    user = make.staff()
    token = user.session_token
    service.end_sessions(session, user)
    assert user.session_token != token
    assert user.get_id() == user.session_token


def test_active_technicians_lists_active_technicians_and_managers_only(session, make):
    tech = make.staff(role=Role.TECHNICIAN, full_name="A Tech")
    manager = make.staff(role=Role.MANAGER, full_name="B Manager")
    make.staff(role=Role.FRONT_DESK, full_name="C Desk")
    gone = make.staff(role=Role.TECHNICIAN, full_name="D Gone")
    gone.is_active_account = False
    session.flush()
    assert service.active_technicians(session) == [tech, manager]


def test_role_check_lets_a_manager_do_everything(make):
    manager = make.staff(role=Role.MANAGER)
    desk = make.staff(role=Role.FRONT_DESK)
    assert manager.has_role(Role.TECHNICIAN)
    assert desk.has_role(Role.FRONT_DESK)
    assert not desk.has_role(Role.TECHNICIAN)
