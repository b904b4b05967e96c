"""crm.loading.attach: the collections read by a statement of their own are what an eager load leaves (in order,
back references set, nothing to flush), on the order page's query."""

from sqlalchemy import event

from crm.extensions import db
from crm.orders import queries, service
from tests import factories


def test_an_order_loaded_for_its_page_has_its_lines_and_history_as_loaded_not_changed(session):
    technician = factories.staff("technician", username="loading-tech")
    order = factories.order(technician_id=technician.id)
    for i in (3, 1, 2):
        service.add_line(session, order, kind="part", description=f"Part {i}", quantity=1, unit_price_minor=100 * i,
                         actor=technician)
    for target in ("diagnosing", "in_repair"):
        service.change_status(session, order, target, actor=technician, note=target)
    session.commit()
    order_id = order.id
    session.expunge_all()

    loaded = queries.order_detail(session, order_id)
    assert [line.description for line in loaded.lines] == ["Part 3", "Part 1", "Part 2"]  # by id, as written
    assert [line.id for line in loaded.lines] == sorted(line.id for line in loaded.lines)
    assert all(line.order is loaded for line in loaded.lines)
    assert [change.to_status for change in loaded.history] == ["received", "diagnosing", "in_repair"]
    assert all(change.order is loaded for change in loaded.history)
    assert [change.changed_by.username for change in loaded.history[1:]] == ["loading-tech"] * 2
    assert loaded.technician.username == "loading-tech" and loaded.customer.name

    assert not session.dirty and not session.new
    written = []
    listener = lambda *args: written.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        session.flush()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert written == []


def test_an_order_that_is_not_there_is_none(session):
    assert queries.order_detail(session, 987654) is None
