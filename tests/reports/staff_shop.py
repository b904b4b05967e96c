"""A small shop for the staff report, built by hand, where every figure of March 2026 (Kyiv time) is known.

Kyiv is UTC+2 until 29 March 2026 03:00 local, then UTC+3."""

from datetime import date
from itertools import count

from crm.auth.models import Role, StaffUser
from crm.feedback.models import Feedback
from crm.orders.models import OrderStatusChange, RepairOrder
from crm.orders.status import Status
from crm.sales.models import Refund, RefundLine, Sale, SaleLine, SaleStatus
from tests import factories
from tests.reports.shop import at

_n = count(1)


def person(session, name: str, role: str = Role.TECHNICIAN, commission_bp: int = 0) -> StaffUser:
    n = next(_n)
    user = StaffUser(username=f"staff-report-{n}", full_name=name, role=role, password_hash="!unusable",
                     commission_basis_points=commission_bp)
    session.add(user)
    session.flush()
    return user


def repair(session, customer, tech, received: str, ready: list[str] = (), due: date | None = None,
           warranty_of: RepairOrder | None = None) -> RepairOrder:
    """An order received at ``received`` (UTC) that reached "ready" at each moment of ``ready``."""
    order = factories.order(customer, technician_id=tech.id if tech else None, due_date=due)
    order.created_at = at(received)
    order.warranty_of_id = warranty_of.id if warranty_of else None
    for moment in ready:
        session.add(OrderStatusChange(order_id=order.id, from_status="in_repair", to_status=Status.READY.value,
                                      changed_at=at(moment)))
    session.flush()
    return order


def sale(session, desk, paid_at: str, *, order=None, labour: int = 0, part: int = 0, items: int = 0,
         points: int = 0, coupon: str | None = None) -> Sale:
    total = labour + part + items
    row = Sale(number=f"SS-{next(_n)}", status=SaleStatus.PAID, customer_id=order.customer_id if order else None,
               repair_order_id=order.id if order else None, subtotal_minor=total, total_minor=total,
               paid_minor=total, paid_by_id=desk.id, paid_at=at(paid_at), created_at=at(paid_at),
               points_redeemed=points, coupon_code=coupon)
    session.add(row)
    session.flush()
    for kind, amount in (("labour", labour), ("part", part), ("item", items)):
        if amount:
            session.add(SaleLine(sale_id=row.id, kind=kind, category_code=kind, description=kind, quantity=1,
                                 unit_price_minor=amount, total_minor=amount))
    session.flush()
    return row


def refund(session, by, sale_row: Sale, kind: str, amount: int, created_at: str) -> Refund:
    n = next(_n)
    line = next(line for line in session.query(SaleLine).filter_by(sale_id=sale_row.id, kind=kind))
    row = Refund(number=f"SRF-{n}", sale_id=sale_row.id, reason="test", method="cash", amount_minor=amount,
                 refund_key=f"srk-{n}", refund_digest="d", created_by_id=by.id, created_at=at(created_at))
    session.add(row)
    session.flush()
    session.add(RefundLine(refund_id=row.id, sale_line_id=line.id, quantity=1, amount_minor=amount))
    line.refunded_quantity, line.refunded_minor = 1, amount
    session.flush()
    return row


def rating(session, order: RepairOrder, stars: int, created_at: str) -> None:
    session.add(Feedback(order_id=order.id, customer_id=order.customer_id, rating=stars, created_at=at(created_at),
                         updated_at=at(created_at), follow_up="none"))
    session.flush()


def build(session) -> dict:
    c = factories.customer()
    anna = person(session, "Anna Tech", commission_bp=1250)
    boris = person(session, "Boris Tech")
    person(session, "Chris Tech")  # active, nothing in March
    dana = person(session, "Dana Desk", Role.FRONT_DESK)
    person(session, "Emil Desk", Role.FRONT_DESK)  # active, nothing in March
    boss = person(session, "Boss", Role.MANAGER)
    # Anna: four repairs finished in March: 10 h (due that day: on time), 48 h (due the day before: late),
    # 4 h (no due date), 37.5 h: ready 29 March 21:30 UTC = 30 March 00:30 Kyiv (summer time), due 29 March: late;
    # it went back to work and was ready again on the 31st: the first "ready" counts.
    o1 = repair(session, c, anna, "2026-03-02T08:00", ["2026-03-02T18:00"], due=date(2026, 3, 2))
    o2 = repair(session, c, anna, "2026-03-03T08:00", ["2026-03-05T08:00"], due=date(2026, 3, 4))
    o3 = repair(session, c, anna, "2026-03-10T08:00", ["2026-03-10T12:00"])
    repair(session, c, anna, "2026-03-28T08:00", ["2026-03-29T21:30", "2026-03-31T10:00"], due=date(2026, 3, 29))
    # Not March: ready 28 Feb 21:00 UTC = 23:00 Kyiv; ready 31 March 21:30 UTC = 1 April 00:30 Kyiv; never ready.
    repair(session, c, anna, "2026-02-27T21:00", ["2026-02-28T21:00"])
    repair(session, c, anna, "2026-03-30T08:00", ["2026-03-31T21:30"])
    repair(session, c, anna, "2026-03-30T08:00")
    b1 = repair(session, c, boris, "2026-03-12T08:00", ["2026-03-12T13:00"])
    repair(session, c, None, "2026-03-12T08:00", ["2026-03-12T09:00"])  # nobody's: in no row
    # Warranty returns of Anna's first repair: one taken in on 15 March, one in April.
    repair(session, c, boris, "2026-03-15T08:00", warranty_of=o1)
    repair(session, c, boris, "2026-04-05T08:00", warranty_of=o1)
    # Dana checks out: o1 (labour 1000.00 + part 500.00, 10 points, a coupon), o2 (labour 600.00, of which
    # 200.00 is refunded by the manager on 20 March), a walk-in 50.00; o3 is paid in April.
    sale(session, dana, "2026-03-03T09:00", order=o1, labour=100_000, part=50_000, points=10, coupon="SPRING")
    s2 = sale(session, dana, "2026-03-06T09:00", order=o2, labour=60_000)
    sale(session, dana, "2026-03-16T09:00", items=5_000)
    sale(session, dana, "2026-04-02T09:00", order=o3, labour=99_999)
    refund(session, boss, s2, "labour", 20_000, "2026-03-20T09:00")
    # Ratings: Anna's o1 5 stars and o2 2 stars in March; Boris's b1 rated in February.
    rating(session, o1, 5, "2026-03-04T10:00")
    rating(session, o2, 2, "2026-03-07T10:00")
    rating(session, b1, 4, "2026-02-20T10:00")
    return {"anna": anna, "boris": boris, "dana": dana, "boss": boss}
