"""/api/v1: the shop's data for other programs: reads of customers, points, repairs, the catalogue and sales,
and the first writes (registering and changing customers). Every view goes through the same models and services
as the web pages; lists are cursor-paginated."""

from flask import abort, current_app, g
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.api import schemas
from crm.api.auth import READERS, allow, api_rate_limit, authenticate_request, rate_key
from crm.api.idempotency import write
from crm.api.models import TokenRole
from crm.api.paging import page
from crm.api.problems import unprocessable
from crm.audit import record_change
from crm.catalogue.models import CatalogueItem
from crm.customers import consent
from crm.customers import service as customer_service
from crm.customers.models import Customer
from crm.database import utcnow
from crm.extensions import db, limiter
from crm.loyalty import tiers
from crm.loyalty.models import Account, LedgerEntry
from crm.loyalty.program import get_program
from crm.orders.models import RepairOrder
from crm.sales.models import Sale, SaleStatus

IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "required": False,
                   "schema": {"type": "string", "pattern": "^[!-~]{1,100}$"},
                   "description": "Send the same key again to replay the first answer instead of repeating the "
                                  "write; another request with a used key gets 409."}
blp = Blueprint("api_v1", __name__, url_prefix="/api/v1", description="The shop's data for other programs.")
blp.before_request(authenticate_request)
limiter.limit(api_rate_limit, key_func=rate_key)(blp)


def _found(model, ident: int):
    row = db.session.get(model, ident)
    if row is None:
        abort(404, description=f"No {model.__name__.lower()} {ident}.")
    return row


@blp.route("/customers", methods=["POST"])
@blp.doc(parameters=[IDEMPOTENCY_KEY])
@write
@blp.arguments(schemas.CustomerCreateSchema)
@blp.response(201, schemas.CustomerSchema)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.alt_response(409, response="CONFLICT")
@allow(TokenRole.FRONT_DESK)
def create_customer(data):
    """Register a customer (front desk or manager token); the phone must be new. Send an Idempotency-Key."""
    try:
        customer = customer_service.create_customer(db.session, customer_service.CustomerData(**data),
                                                    region=current_app.config["PHONE_REGION"], source=consent.API)
    except customer_service.CustomerError as exc:
        unprocessable(exc.field or "name", str(exc.message))
    record_change(db.session, f"customer:{customer.id}", "created through the API", "", g.api_token.name, None,
                  utcnow())
    return customer


@blp.route("/customers/<int:customer_id>", methods=["PATCH"])
@blp.doc(parameters=[IDEMPOTENCY_KEY])
@write
@blp.arguments(schemas.CustomerUpdateSchema)
@blp.response(200, schemas.CustomerSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.alt_response(409, response="CONFLICT")
@allow(TokenRole.FRONT_DESK)
def update_customer(changes, customer_id: int):
    """Change a customer's details or consents (front desk or manager token); consent changes are in the
    customer's consent history with source "api". Send an Idempotency-Key."""
    customer = _found(Customer, customer_id)
    if customer.erased_at is not None:
        abort(404, description=f"No customer {customer_id}.")
    current = {name: getattr(customer, name) for name in schemas.CustomerUpdateSchema().fields}
    data = customer_service.CustomerData(**{**current, **changes}, notes=customer.notes,
                                         preferred_channel=customer.preferred_channel)
    try:
        customer_service.update_customer(db.session, customer, data, region=current_app.config["PHONE_REGION"],
                                         source=consent.API)
    except customer_service.CustomerError as exc:
        unprocessable(exc.field or "name", str(exc.message))
    record_change(db.session, f"customer:{customer.id}", "changed through the API", "", g.api_token.name, None,
                  utcnow())
    return customer


@blp.route("/customers/<int:customer_id>", methods=["GET"])
@blp.response(200, schemas.CustomerSchema)
@blp.alt_response(404, response="NOT_FOUND")
@allow(*READERS)
def customer(customer_id: int):
    """A customer's profile."""
    customer = _found(Customer, customer_id)
    if customer.erased_at is not None:
        abort(404, description=f"No customer {customer_id}.")
    return customer


@blp.route("/customers/<int:customer_id>/loyalty", methods=["GET"])
@blp.response(200, schemas.LoyaltySchema)
@blp.alt_response(404, response="NOT_FOUND")
@allow(*READERS)
def customer_loyalty(customer_id: int):
    """Points balance, tier and what the next tier needs."""
    _found(Customer, customer_id)
    account = db.session.scalar(select(Account).where(Account.customer_id == customer_id))
    value = get_program(db.session).point_value_minor
    if account is None:
        return {"member": False, "balance": 0, "point_value_minor": value, "tier": None, "next_tier": None,
                "missing_spend_minor": None, "missing_repairs": None}
    standing = tiers.standing(db.session, account)
    return {"member": True, "balance": account.balance, "point_value_minor": value,
            "tier": standing.tier.name if standing.tier else None,
            "next_tier": standing.next_tier.name if standing.next_tier else None,
            "missing_spend_minor": standing.missing_spend_minor, "missing_repairs": standing.missing_repairs}


@blp.route("/customers/<int:customer_id>/ledger", methods=["GET"])
@blp.arguments(schemas.PageArgs, location="query")
@blp.response(200, schemas.page_of(schemas.LedgerEntrySchema, "LedgerPage"))
@blp.alt_response(404, response="NOT_FOUND")
@allow(*READERS)
def customer_ledger(args, customer_id: int):
    """The customer's points entries, oldest first."""
    _found(Customer, customer_id)
    stmt = select(LedgerEntry).where(LedgerEntry.customer_id == customer_id)
    return page(db.session, stmt, LedgerEntry.id, args["cursor"], args["limit"])


@blp.route("/orders", methods=["GET"])
@blp.arguments(schemas.OrderListArgs, location="query")
@blp.response(200, schemas.page_of(schemas.OrderSchema, "OrderPage"))
@allow(*READERS)
def orders(args):
    """Repair orders by status, technician or change time (for sync: ``updated_since``), in id order."""
    stmt = select(RepairOrder)
    if "status" in args:
        stmt = stmt.where(RepairOrder.status == args["status"])
    if "technician_id" in args:
        stmt = stmt.where(RepairOrder.technician_id == args["technician_id"])
    if "updated_since" in args:
        stmt = stmt.where(RepairOrder.updated_at >= args["updated_since"])
    return page(db.session, stmt, RepairOrder.id, args["cursor"], args["limit"])


@blp.route("/orders/<int:order_id>", methods=["GET"])
@blp.response(200, schemas.OrderDetailSchema)
@blp.alt_response(404, response="NOT_FOUND")
@allow(*READERS)
def order(order_id: int):
    """A repair order with its work and part lines."""
    order = db.session.scalar(select(RepairOrder).where(RepairOrder.id == order_id)
                              .options(selectinload(RepairOrder.lines)))
    if order is None:
        abort(404, description=f"No repair order {order_id}.")
    return order


@blp.route("/catalogue/items", methods=["GET"])
@blp.arguments(schemas.PageArgs, location="query")
@blp.response(200, schemas.page_of(schemas.ItemSchema, "ItemPage"))
@allow(*READERS)
def items(args):
    """Catalogue items with their stock on hand."""
    return page(db.session, select(CatalogueItem), CatalogueItem.id, args["cursor"], args["limit"])


@blp.route("/sales", methods=["GET"])
@blp.arguments(schemas.SaleListArgs, location="query")
@blp.response(200, schemas.page_of(schemas.SaleSchema, "SalePage"))
@allow(*READERS)
def sales(args):
    """Paid sales, for accounting (``paid_since`` for the new ones)."""
    stmt = select(Sale).where(Sale.status == SaleStatus.PAID)
    if "paid_since" in args:
        stmt = stmt.where(Sale.paid_at >= args["paid_since"])
    return page(db.session, stmt, Sale.id, args["cursor"], args["limit"])
