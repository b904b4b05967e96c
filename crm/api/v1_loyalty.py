"""/api/v1 loyalty: a customer's points, tier and ledger, and the manager's points adjustment (the customer page's
service, crm.loyalty.accounts.adjust_points: a reason, the ledger only, never below zero)."""

import hashlib

from flask import abort, g, request
from sqlalchemy import select

from crm.api import schemas
from crm.api.auth import READERS, allow
from crm.api.idempotency import HEADER, write
from crm.api.paging import page
from crm.api.problems import unprocessable
from crm.api.v1 import acting, blp, found_customer
from crm.extensions import db
from crm.loyalty import accounts, tiers
from crm.loyalty.ledger import LoyaltyError
from crm.loyalty.models import Account, LedgerEntry
from crm.loyalty.program import get_program

REQUIRED_IDEMPOTENCY_KEY = {"in": "header", "name": HEADER, "required": True,
                            "schema": {"type": "string", "pattern": "^[!-~]{1,100}$"},
                            "description": "Required: a retried call with the same key adjusts once (the first "
                                           "answer is replayed); another request with a used key gets 409."}


@blp.route("/customers/<int:customer_id>/loyalty", methods=["GET"])
@blp.response(200, schemas.LoyaltySchema)
@blp.alt_response(404, response="NOT_FOUND")
@allow(*READERS)
def customer_loyalty(customer_id: int):
    """Points balance, tier and what the next tier needs."""
    found_customer(customer_id)
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
    found_customer(customer_id)
    stmt = select(LedgerEntry).where(LedgerEntry.customer_id == customer_id)
    return page(db.session, stmt, LedgerEntry.id, args["cursor"], args["limit"])


@blp.route("/customers/<int:customer_id>/points", methods=["POST"])
@blp.doc(parameters=[REQUIRED_IDEMPOTENCY_KEY])
@allow()  # a manager token only, as the customer page's "Adjust points"
@write
@blp.arguments(schemas.PointsAdjustmentSchema)
@blp.response(201, schemas.LedgerEntrySchema)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def adjust_points(data, customer_id: int):
    """Add points to a balance or take them away, with a reason (a manager token; the customer joins the program if
    they were not a member). A deduction larger than the balance is refused: a balance never goes negative. The
    entry is the ledger's, in the change log as the token's. Idempotency-Key is required: a retry adjusts once."""
    key = request.headers.get(HEADER)
    if key is None:
        abort(400, description=f"Send an {HEADER} header: a retried adjustment must not adjust twice.")
    customer = found_customer(customer_id)
    digest = hashlib.sha256(key.strip().encode()).hexdigest()[:48]
    try:
        return accounts.adjust_points(db.session, customer, data["points"], reason=data["reason"],
                                      key=f"api:{g.api_token.id}:{customer.id}:{digest}", actor=acting())
    except LoyaltyError as exc:
        unprocessable(exc.field or "points", str(exc.message))
