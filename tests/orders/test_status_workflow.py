"""The repair status workflow: only the moves in TRANSITIONS, only by the roles allowed, each one in the history."""

import itertools
import threading
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crm.auth.models import Role, StaffUser
from crm.extensions import db
from crm.orders import service
from crm.orders.models import OrderStatusChange, RepairOrder, RepairOrderLine
from crm.orders.service import OrderError
from crm.orders.status import CHECKOUT_ONLY, CLOSED_STATUSES, TARGETS_BY_ROLE, TRANSITIONS, Status, allowed_targets

S = Status
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
_numbers = itertools.count(1)


def staff_member(session, role: str) -> StaffUser:
    """A staff row without a usable password: these tests never log in, so no argon2 hashing."""
    n = next(_numbers)
    user = StaffUser(username=f"wf-{role}-{n}", full_name=f"{role} {n}", role=role, password_hash="!unusable")
    session.add(user)
    session.flush()
    return user


def order_in(make, status: Status) -> RepairOrder:
    """An order put straight into ``status`` (test set-up, not a workflow move)."""
    order = make.order()
    order.status = status.value
    # A quote to ask approval for (asking without one is refused: tests/orders/test_quotes.py).
    db.session.add(RepairOrderLine(order_id=order.id, kind="labour", description="Work", quantity=1,
                                   unit_price_minor=100))
    db.session.flush()
    return order


def history(session, order) -> list[OrderStatusChange]:
    return list(session.scalars(select(OrderStatusChange).where(OrderStatusChange.order_id == order.id)
                                .order_by(OrderStatusChange.id)))


ALL_PAIRS = [(a, b) for a in Status for b in Status]


@pytest.mark.parametrize(("from_status", "to_status"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_a_move_is_allowed_exactly_when_it_is_in_transitions(session, make, from_status, to_status):
    manager = staff_member(session, Role.MANAGER)
    order = order_in(make, from_status)
    rows_before = len(history(session, order))
    if to_status in TRANSITIONS[from_status]:
        service.change_status(session, order, to_status, actor=manager, via_checkout=to_status in CHECKOUT_ONLY)
        assert order.status == to_status
        assert len(history(session, order)) == rows_before + 1
    else:
        with pytest.raises(OrderError) as caught:
            service.change_status(session, order, to_status, actor=manager, via_checkout=True)
        assert caught.value.field == "status"
        assert order.status == from_status
        assert len(history(session, order)) == rows_before


def test_closed_statuses_are_final():
    for status in CLOSED_STATUSES:
        assert TRANSITIONS[status] == frozenset()


def test_every_status_can_be_reached_from_received():
    reached, frontier = {S.RECEIVED}, [S.RECEIVED]
    while frontier:
        for nxt in TRANSITIONS[frontier.pop()]:
            if nxt not in reached:
                reached.add(nxt)
                frontier.append(nxt)
    assert reached == set(Status)


ROLE_MOVES = [(role, a, b) for role in Role for a in Status for b in sorted(TRANSITIONS[a])]


@pytest.mark.parametrize(("role", "from_status", "to_status"), ROLE_MOVES,
                         ids=[f"{r}:{a}->{b}" for r, a, b in ROLE_MOVES])
def test_a_role_may_make_an_allowed_move_only_into_its_own_targets(session, make, role, from_status, to_status):
    actor = staff_member(session, role)
    order = order_in(make, from_status)
    if to_status in TARGETS_BY_ROLE[role]:
        service.change_status(session, order, to_status, actor=actor, via_checkout=to_status in CHECKOUT_ONLY)
        assert order.status == to_status
    else:
        with pytest.raises(OrderError, match="Your role cannot set"):
            service.change_status(session, order, to_status, actor=actor)
        assert order.status == from_status


def test_technician_cannot_hand_a_device_back(session, make):
    order = order_in(make, S.READY)
    with pytest.raises(OrderError):
        service.change_status(session, order, S.PICKED_UP, actor=staff_member(session, Role.TECHNICIAN))


def test_front_desk_cannot_start_a_diagnosis(session, make):
    order = order_in(make, S.RECEIVED)
    with pytest.raises(OrderError):
        service.change_status(session, order, S.DIAGNOSING, actor=staff_member(session, Role.FRONT_DESK))


def test_front_desk_records_the_customers_answer_and_hands_the_device_back(session, make):
    desk = staff_member(session, Role.FRONT_DESK)
    order = order_in(make, S.AWAITING_APPROVAL)
    service.change_status(session, order, S.IN_REPAIR, actor=desk)
    order.status = S.READY.value
    service.change_status(session, order, S.PICKED_UP, actor=desk, via_checkout=True)
    assert order.status == S.PICKED_UP


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.MANAGER])
def test_picked_up_is_reached_only_through_checkout(session, make, role):
    order = order_in(make, S.READY)
    with pytest.raises(OrderError, match="through checkout"):
        service.change_status(session, order, S.PICKED_UP, actor=staff_member(session, role))
    assert order.status == S.READY
    assert S.PICKED_UP not in allowed_targets("ready", role)


def test_manager_can_make_every_allowed_move(session, make):
    manager = staff_member(session, Role.MANAGER)
    for from_status in Status:
        assert set(allowed_targets(from_status, Role.MANAGER)) == TRANSITIONS[from_status] - CHECKOUT_ONLY
        for to_status in TRANSITIONS[from_status]:
            order = order_in(make, from_status)
            service.change_status(session, order, to_status, actor=manager, via_checkout=to_status in CHECKOUT_ONLY)
            assert order.status == to_status


def test_allowed_targets_are_what_the_role_may_do_in_workflow_order():
    assert allowed_targets("received", Role.TECHNICIAN) == [S.DIAGNOSING, S.CANCELLED]
    assert allowed_targets("received", Role.FRONT_DESK) == [S.CANCELLED]
    assert allowed_targets("ready", Role.FRONT_DESK) == [S.IN_REPAIR]
    assert allowed_targets("ready", Role.TECHNICIAN) == [S.IN_REPAIR]
    assert allowed_targets("picked_up", Role.MANAGER) == []


def test_a_change_writes_a_history_row_with_from_to_who_when_and_note(session, make):
    technician = staff_member(session, Role.TECHNICIAN)
    order = make.order()
    change = service.change_status(session, order, "diagnosing", actor=technician, note="  opened the case  ",
                                   now=T0)
    session.commit()
    session.expire_all()
    rows = history(session, order)
    assert [(r.from_status, r.to_status) for r in rows] == [(None, "received"), ("received", "diagnosing")]
    last = rows[-1]
    assert last.id == change.id
    assert last.changed_by_id == technician.id
    assert last.changed_at == T0
    assert last.note == "opened the case"
    assert order.updated_at == T0


@pytest.mark.parametrize("closing", [S.PICKED_UP, S.CANCELLED])
def test_closing_an_order_records_when(session, make, closing):
    manager = staff_member(session, Role.MANAGER)
    order = order_in(make, S.READY if closing == S.PICKED_UP else S.RECEIVED)
    service.change_status(session, order, closing, actor=manager, now=T0, via_checkout=closing in CHECKOUT_ONLY)
    assert order.closed_at == T0


def test_open_moves_leave_closed_at_empty(session, make):
    manager = staff_member(session, Role.MANAGER)
    order = make.order()
    for target in (S.DIAGNOSING, S.IN_REPAIR, S.READY, S.IN_REPAIR):
        service.change_status(session, order, target, actor=manager, now=T0)
        assert order.closed_at is None


def test_a_change_based_on_a_stale_status_is_refused(session, make):
    manager = staff_member(session, Role.MANAGER)
    order = make.order()
    service.change_status(session, order, S.DIAGNOSING, actor=manager)
    with pytest.raises(OrderError, match="Someone changed this order meanwhile"):
        service.change_status(session, order, S.CANCELLED, actor=manager, expected_from="received")
    assert order.status == S.DIAGNOSING
    assert len(history(session, order)) == 2
    service.change_status(session, order, S.CANCELLED, actor=manager, expected_from="diagnosing")
    assert order.status == S.CANCELLED


@pytest.mark.parametrize("unknown", ["fixed", "", "RECEIVED", "ready "])
def test_an_unknown_status_is_refused(session, make, unknown):
    order = make.order()
    with pytest.raises(OrderError, match="Unknown status") as caught:
        service.change_status(session, order, unknown, actor=staff_member(session, Role.MANAGER))
    assert caught.value.field == "status"
    assert order.status == "received"


@pytest.fixture
def all_roles(session):
    staff = {role: staff_member(session, role) for role in Role}
    session.commit()
    return staff


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attempts=st.lists(st.tuples(st.sampled_from(list(Role)), st.sampled_from(list(Status))), max_size=15))
def test_any_sequence_of_attempts_keeps_the_history_consistent(session, make, all_roles, attempts):
    """Whatever is tried, by whoever: the last history row is the order's status, each row starts where
    the previous one ended, and each applied move was allowed for its role."""
    order = order_in(make, Status.RECEIVED)
    try:
        for role, target in attempts:
            before = order.status
            allowed = target in TRANSITIONS[Status(before)] and target in TARGETS_BY_ROLE[role]
            try:
                service.change_status(session, order, target, actor=all_roles[role], expected_from=before,
                                      via_checkout=True)
            except OrderError:
                assert not allowed
                assert order.status == before
            else:
                assert allowed
        rows = history(session, order)
        assert rows[0].from_status is None and rows[0].to_status == "received"
        assert rows[-1].to_status == order.status
        for previous, row in itertools.pairwise(rows):
            assert row.from_status == previous.to_status
            assert Status(row.to_status) in TRANSITIONS[Status(row.from_status)]
            assert Status(row.to_status) in TARGETS_BY_ROLE[session.get(StaffUser, row.changed_by_id).role]
        assert (order.closed_at is not None) == (order.status in CLOSED_STATUSES)
    finally:
        session.rollback()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_walks_of_allowed_moves_keep_the_history_consistent(session, make, all_roles, data):
    order = order_in(make, Status.RECEIVED)  # with a quote line: any walk may ask for approval
    manager = all_roles[Role.MANAGER]
    try:
        for _step in range(data.draw(st.integers(min_value=0, max_value=12))):
            targets = sorted(TRANSITIONS[Status(order.status)])
            if not targets:
                break
            service.change_status(session, order, data.draw(st.sampled_from(targets)), actor=manager, via_checkout=True)
        rows = history(session, order)
        assert rows[-1].to_status == order.status
        assert [r.from_status for r in rows[1:]] == [r.to_status for r in rows[:-1]]
    finally:
        session.rollback()


# --- two people changing the same order at once ---------------------------------------------------------

def test_two_concurrent_changes_from_the_same_status_apply_exactly_one(app, session, make):
    """On PostgreSQL lock_order's FOR UPDATE makes the second wait and then see the new status; on
    SQLite BEGIN IMMEDIATE serialises the two transactions. Either way the loser gets OrderError."""
    technician = staff_member(session, Role.TECHNICIAN)
    desk = staff_member(session, Role.FRONT_DESK)
    order = make.order()
    order_id, moves = order.id, [(technician.id, "diagnosing"), (desk.id, "cancelled")]
    session.commit()
    session.close()  # hold no transaction (on SQLite: no write lock) while the threads run
    start = threading.Barrier(len(moves), timeout=10)
    # Both threads try to have read the order before either writes. With the row lock the second
    # cannot read yet, so this wait times out and the first goes on alone.
    both_read = threading.Barrier(len(moves))
    results: dict[str, object] = {}

    def change(actor_id, target):
        with app.app_context():
            try:
                start.wait()
                actor = db.session.get(StaffUser, actor_id)
                locked = service.lock_order(db.session, order_id)
                try:
                    both_read.wait(timeout=0.5)
                except threading.BrokenBarrierError:
                    pass
                service.change_status(db.session, locked, target, actor=actor, expected_from="received")
                db.session.commit()
                results[target] = "applied"
            except OrderError as exc:
                db.session.rollback()
                results[target] = exc
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                db.session.rollback()
                results[target] = repr(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=change, args=move) for move in moves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    applied = [target for target, outcome in results.items() if outcome == "applied"]
    refused = [outcome for outcome in results.values() if isinstance(outcome, OrderError)]
    assert len(applied) == 1 and len(refused) == 1, results
    rows = history(session, session.get(RepairOrder, order_id))
    assert [(r.from_status, r.to_status) for r in rows] == [(None, "received"), ("received", applied[0])]
    assert session.get(RepairOrder, order_id).status == applied[0]
