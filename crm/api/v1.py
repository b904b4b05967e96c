"""/api/v1: the shop's data for other programs: customers, points, repairs, the catalogue, sales and refunds, and
the writes the desk, the bench and the manager make (registering customers, intake, status changes, lines, points
adjustments). Every view goes through the same services as the web pages, acting as the token's staff row
(crm.api.tokens: "the actor of a token"); lists are cursor-paginated; single resources carry an ETag.

This module makes the blueprint and holds the customers; crm.api.v1_orders, v1_loyalty and v1_sales add theirs."""

from flask import abort, current_app, g, request
from flask_smorest import Blueprint
from flask_smorest.exceptions import NotModified

from crm import audit
from crm.api import schemas, tokens
from crm.api.auth import READERS, allow, api_rate_limit, authenticate_request, rate_key
from crm.api.customer_search import customers_page
from crm.api.idempotency import write
from crm.api.models import TokenRole
from crm.api.problems import unprocessable
from crm.audit import record_change
from crm.auth.models import StaffUser
from crm.customers import consent
from crm.customers import service as customer_service
from crm.customers.models import Customer
from crm.database import utcnow
from crm.extensions import db, limiter
from crm.numbers import MAX_ID

IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "required": False,
                   "schema": {"type": "string", "pattern": "^[!-~]{1,100}$"},
                   "description": "Send the same key again to replay the first answer instead of repeating the "
                                  "write; another request with a used key gets 409."}


class NotModifiedTag(NotModified):
    """304 for a matching If-None-Match, carrying the ETag (RFC 9110 asks the 304 to repeat it)."""

    def __init__(self, etag: str):
        super().__init__()
        self.etag = etag


class CrmBlueprint(Blueprint):
    """flask-smorest's Blueprint; its ETag (``@blp.etag``: a hash of the dumped answer, so it changes with any field)
    is compared weakly with If-None-Match, as RFC 9110 says for GET, and the 304 repeats it."""

    def _check_not_modified(self, etag):
        if request.method in self.METHODS_CHECKING_NOT_MODIFIED and request.if_none_match.contains_weak(etag):
            raise NotModifiedTag(etag)


blp = CrmBlueprint("api_v1", __name__, url_prefix="/api/v1", description="The shop's data for other programs.")
blp.before_request(authenticate_request)
limiter.limit(api_rate_limit, key_func=rate_key)(blp)


def found(model, ident: int):
    """The row, or a 404 problem."""
    row = db.session.get(model, ident)
    if row is None:
        abort(404, description=f"No {model.__name__.lower()} {ident}.")
    return row


def found_customer(customer_id: int) -> Customer:
    """A customer who was not erased (an erased one is no customer to other programs)."""
    customer = found(Customer, customer_id)
    if customer.erased_at is not None:
        abort(404, description=f"No customer {customer_id}.")
    return customer


def acting() -> StaffUser:
    """Who the services see acting: the token's own staff row (crm.api.tokens)."""
    return tokens.actor_of(db.session, g.api_token)


def audited(action: str, target_type: str, target_id, details: dict, *, area: str) -> None:
    """The write's line in the change log: by the token's actor, with the token's name in the details."""
    audit.record(db.session, acting(), action, target_type, target_id, {"token": g.api_token.name, **details},
                 area=area, now=utcnow())


@blp.route("/customers", methods=["GET"])
@blp.arguments(schemas.CustomerSearchArgs, location="query")
@blp.response(200, schemas.page_of(schemas.CustomerSchema, "CustomerPage"))
@allow(*READERS)
def search_customers(args):
    """Customers whose phone, name or e-mail contains ``q``, as the desk's search finds them, newest first; pages
    by ``cursor`` (the last id of the page before: the pages hold still while customers are added). Erased customers
    are never listed."""
    before = int(args["cursor"]) if args["cursor"] else None
    if before is not None and before > MAX_ID:  # every id is below it (and the database's integers end there)
        before = None
    rows, more = customers_page(db.session, args["q"][:100], before_id=before, limit=args["limit"])
    return {"items": rows, "next_cursor": str(rows[-1].id) if more and rows else None}


@blp.route("/customers", methods=["POST"])
@blp.doc(parameters=[IDEMPOTENCY_KEY])
@allow(TokenRole.FRONT_DESK)
@write
@blp.arguments(schemas.CustomerCreateSchema)
@blp.response(201, schemas.CustomerSchema)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.alt_response(409, response="CONFLICT")
def create_customer(data):
    """Register a customer (front desk or manager token); the phone must be new. Send an Idempotency-Key."""
    try:
        customer = customer_service.create_customer(db.session, customer_service.CustomerData(**data),
                                                    region=current_app.config["PHONE_REGION"], source=consent.API)
    except customer_service.CustomerError as exc:
        unprocessable(exc.field or "name", str(exc.message))
    record_change(db.session, f"customer:{customer.id}", "created through the API", "", g.api_token.name, acting(),
                  utcnow())
    return customer


@blp.route("/customers/<int:customer_id>", methods=["PATCH"])
@blp.doc(parameters=[IDEMPOTENCY_KEY])
@allow(TokenRole.FRONT_DESK)
@write
@blp.arguments(schemas.CustomerUpdateSchema)
@blp.response(200, schemas.CustomerSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.alt_response(409, response="CONFLICT")
def update_customer(changes, customer_id: int):
    """Change a customer's details or consents (front desk or manager token); consent changes are in the
    customer's consent history with source "api". Send an Idempotency-Key."""
    customer = found_customer(customer_id)
    current = {name: getattr(customer, name) for name in schemas.CustomerUpdateSchema().fields}
    data = customer_service.CustomerData(**{**current, **changes}, notes=customer.notes,
                                         preferred_channel=customer.preferred_channel)
    try:
        customer_service.update_customer(db.session, customer, data, region=current_app.config["PHONE_REGION"],
                                         source=consent.API)
    except customer_service.CustomerError as exc:
        unprocessable(exc.field or "name", str(exc.message))
    record_change(db.session, f"customer:{customer.id}", "changed through the API", "", g.api_token.name, acting(),
                  utcnow())
    return customer


@blp.route("/customers/<int:customer_id>", methods=["GET"])
@blp.etag
@blp.response(200, schemas.CustomerSchema)
@blp.alt_response(404, response="NOT_FOUND")
@allow(*READERS)
def customer(customer_id: int):
    """A customer's profile (with an ETag: send it as If-None-Match to get 304 while nothing changed)."""
    return found_customer(customer_id)


