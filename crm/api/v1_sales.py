"""/api/v1 for accounting: the catalogue with stock, paid sales (one with its lines, payments, the points and coupon
that reduced it, and its refunds) and refunds (by time, with what they did to the points)."""

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.api import schemas
from crm.api.auth import READERS, allow
from crm.api.paging import page
from crm.api.v1 import blp
from crm.catalogue.models import CatalogueItem
from crm.extensions import db
from crm.sales.models import Refund, Sale, SaleStatus
from crm.sales.refunds import refunds_of_sale


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


@blp.route("/sales/<int:sale_id>", methods=["GET"])
@blp.etag
@blp.response(200, schemas.SaleDetailSchema)
@blp.alt_response(404, response="NOT_FOUND")
@allow(*READERS)
def sale(sale_id: int):
    """A paid sale with its lines (what each cost after the desk's discount and its share of the points and coupon),
    its payments and its refunds (with an ETag: a refund changes it). A cart not yet paid is no sale here (404)."""
    sale = db.session.scalar(select(Sale).where(Sale.id == sale_id, Sale.status == SaleStatus.PAID)
                             .options(selectinload(Sale.lines), selectinload(Sale.payments)))
    if sale is None:
        abort(404, description=f"No sale {sale_id}.")
    fields = {name: getattr(sale, name) for name in schemas.SaleDetailSchema().fields if name != "refunds"}
    return {**fields, "refunds": refunds_of_sale(db.session, sale.id)}


@blp.route("/refunds", methods=["GET"])
@blp.arguments(schemas.RefundListArgs, location="query")
@blp.response(200, schemas.page_of(schemas.RefundSchema, "RefundPage"))
@allow(*READERS)
def refunds(args):
    """Refunds in the order they were made (``since``: the new ones), each with its lines and what it did to the
    points."""
    stmt = select(Refund).options(selectinload(Refund.lines))
    if "since" in args:
        stmt = stmt.where(Refund.created_at >= args["since"])
    return page(db.session, stmt, Refund.id, args["cursor"], args["limit"])


@blp.route("/refunds/<int:refund_id>", methods=["GET"])
@blp.etag
@blp.response(200, schemas.RefundSchema)
@blp.alt_response(404, response="NOT_FOUND")
@allow(*READERS)
def refund(refund_id: int):
    """One refund with its lines."""
    refund = db.session.scalar(select(Refund).where(Refund.id == refund_id).options(selectinload(Refund.lines)))
    if refund is None:
        abort(404, description=f"No refund {refund_id}.")
    return refund
