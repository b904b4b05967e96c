"""/api/v1 repair orders: the list (by status, technician, change time) and one order, and the writes of the desk and
the bench through the orders service (crm.orders.service), as the web pages make them: intake (a front desk or
manager token), status changes and lines (a technician, front desk or manager token). The status workflow's rules
and messages are the service's (crm.orders.status): a move the workflow or the token's role does not allow is a 422
on ``status``; a move from a status the order has left meanwhile (``expected_from``) is a 409."""

from flask import abort, current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.api import schemas
from crm.api.auth import READERS, allow
from crm.api.idempotency import write
from crm.api.models import TokenRole
from crm.api.paging import page
from crm.api.problems import problem, unprocessable
from crm.api.v1 import IDEMPOTENCY_KEY, acting, audited, blp
from crm.catalogue.service import find_by_sku
from crm.customers.models import Customer
from crm.extensions import db
from crm.locales import lazy_gettext as _l
from crm.orders import service as order_service
from crm.orders.models import RepairOrder

# The service names a few fields as its form does; the API's names for them.
_FIELDS = {"price": "unit_price_minor", "estimate": "estimate_minor"}


def _refused(exc: order_service.OrderError, default: str):
    field = exc.field or default
    unprocessable(_FIELDS.get(field, field), str(exc.message))


def _order(order_id: int, *, lock: bool = False) -> RepairOrder:
    order = order_service.lock_order(db.session, order_id) if lock else db.session.scalar(
        select(RepairOrder).where(RepairOrder.id == order_id).options(selectinload(RepairOrder.lines))
        .execution_options(populate_existing=True))
    if order is None:
        abort(404, description=f"No repair order {order_id}.")
    return order


@blp.route("/orders", methods=["GET"])
@blp.arguments(schemas.OrderListArgs, location="query")
@blp.response(200, schemas.page_of(schemas.OrderSchema, "OrderPage"))
@allow(*READERS)
def orders(args):
    """Repair orders by status, technician or change time, in id order. To sync: ``updated_since`` (an order
    changed during the paging may turn up again in the next sync: it is the same order, newer)."""
    stmt = select(RepairOrder)
    if "status" in args:
        stmt = stmt.where(RepairOrder.status == args["status"])
    if "technician_id" in args:
        stmt = stmt.where(RepairOrder.technician_id == args["technician_id"])
    if "updated_since" in args:
        stmt = stmt.where(RepairOrder.updated_at >= args["updated_since"])
    return page(db.session, stmt, RepairOrder.id, args["cursor"], args["limit"])


@blp.route("/orders", methods=["POST"])
@blp.doc(parameters=[IDEMPOTENCY_KEY])
@allow(TokenRole.FRONT_DESK)
@write
@blp.arguments(schemas.OrderCreateSchema)
@blp.response(201, schemas.OrderDetailSchema)
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def create_order(data):
    """Take a device in for a customer (front desk or manager token): the intake form's fields and rules; the order
    starts "received", numbered, and the customer gets the intake message. Send an Idempotency-Key."""
    customer = db.session.get(Customer, data.pop("customer_id"))
    if customer is None or customer.erased_at is not None:
        unprocessable("customer_id", str(_l("There is no customer with this id.")))
    data.setdefault("warranty_days", current_app.config["DEFAULT_WARRANTY_DAYS"])
    try:
        order = order_service.create_order(db.session, customer, order_service.OrderData(**data),
                                           created_by=acting(), number_prefix=current_app.config["ORDER_NUMBER_PREFIX"])
    except order_service.OrderError as exc:
        _refused(exc, "brand")
    audited("intake", "order", order.number, {"customer": customer.id}, area="orders")
    return _order(order.id)


@blp.route("/orders/<int:order_id>", methods=["GET"])
@blp.etag
@blp.response(200, schemas.OrderDetailSchema)
@blp.alt_response(404, response="NOT_FOUND")
@allow(*READERS)
def order(order_id: int):
    """A repair order with its work and part lines (with an ETag: send it as If-None-Match to get 304 while nothing
    changed)."""
    return _order(order_id)


@blp.route("/orders/<int:order_id>/status", methods=["POST"])
@blp.doc(parameters=[IDEMPOTENCY_KEY])
@allow(TokenRole.TECHNICIAN, TokenRole.FRONT_DESK)
@write
@blp.arguments(schemas.StatusChangeSchema)
@blp.response(200, schemas.OrderDetailSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def change_status(data, order_id: int):
    """Move the order to another status, as far as the workflow and the token's role allow (a technician token: the
    bench's moves; a front desk token: the desk's; handing a device back is checkout's, not this). Send the status
    you saw as ``expected_from``: if the order moved meanwhile, nothing changes (409)."""
    order = _order(order_id, lock=True)
    before = order.status
    try:
        order_service.change_status(db.session, order, data["status"], actor=acting(), note=data["note"],
                                    expected_from=data["expected_from"], on_approval=data["on_approval"])
    except order_service.OrderError as exc:
        if data["expected_from"] not in (None, order.status):
            return problem(409, "Conflict", str(exc.message), errors={"status": [str(exc.message)]})
        _refused(exc, "status")
    audited("status", "order", order.number, {"from": before, "to": order.status}, area="orders")
    return _order(order_id)


@blp.route("/orders/<int:order_id>/lines", methods=["POST"])
@blp.doc(parameters=[IDEMPOTENCY_KEY])
@allow(TokenRole.TECHNICIAN, TokenRole.FRONT_DESK)
@write
@blp.arguments(schemas.OrderLineCreateSchema)
@blp.response(201, schemas.OrderDetailSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def add_line(data, order_id: int):
    """Log work done (``labour``) or a part used (``part``) on an open order. A part from the catalogue is named by
    its ``sku``: it takes the catalogue's name and price unless others are given, and leaves stock (more than is on
    hand is refused on ``quantity``). A line after an approved quote asks the customer again. Answers the order."""
    order = _order(order_id, lock=True)
    item = None
    try:
        if data["sku"].strip():
            item = find_by_sku(db.session, data["sku"], active_only=True)
            if item is None:
                raise order_service.OrderError(_l("No active catalogue item has this SKU."), field="sku")
        line = order_service.add_line(db.session, order, kind=data["kind"], description=data["description"],
                                      quantity=data["quantity"], unit_price_minor=data["unit_price_minor"],
                                      actor=acting(), item=item)
    except order_service.OrderError as exc:
        _refused(exc, "description")
    audited("line", "order", order.number, {"line": line.id, "kind": line.kind, "quantity": line.quantity,
                                            "unit_price_minor": line.unit_price_minor, "item": line.item_id},
            area="orders")
    return _order(order_id)
