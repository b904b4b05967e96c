"""The refund page of a paid sale."""

import secrets

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm.auth.access import roles_required
from crm.auth.models import Role
from crm.errors import RuleError
from crm.extensions import db
from crm.money import shop_money
from crm.sales import bp, refunds
from crm.sales.forms import refund_form_class
from crm.sales.models import Refund, SaleStatus
from crm.sales.queries import sale_receipt


def _form(sale, formdata=None):
    form_class = refund_form_class(sale.lines, current_app.config["PAYMENT_METHODS"])
    form = form_class(formdata=formdata)
    form.method.choices = form_class.method_choices
    if formdata is None:
        form.key.data = secrets.token_urlsafe(24)
        # Paid back the way it was paid, unless the desk says otherwise.
        if sale.payments:
            form.method.data = sale.payments[0].method
    return form


def _render(sale, form, code=200):
    rows = [(line, getattr(form, qty), getattr(form, restock))
            for line, (_id, qty, restock) in zip(sale.lines, form.line_fields, strict=True)]
    return render_template("sales/refund.html", sale=sale, form=form, rows=rows,
                           refunds=refunds.refunds_of_sale(db.session, sale.id)), code


@bp.route("/<int:sale_id>/refund", methods=["GET", "POST"])
@roles_required(Role.FRONT_DESK)
def refund(sale_id: int):
    sale = sale_receipt(db.session, sale_id)
    if sale is None:
        abort(404)
    if sale.status != SaleStatus.PAID:
        return redirect(url_for("sales.cart", sale_id=sale.id))
    if request.method == "GET":
        return _render(sale, _form(sale))
    form = _form(sale, formdata=request.form)
    if not form.validate_on_submit():
        return _render(sale, form, code=422)
    requests = [refunds.RefundRequest(line_id, getattr(form, qty).data or 0, bool(getattr(form, restock).data))
                for line_id, qty, restock in form.line_fields]
    try:
        done = refunds.refund(db.session, sale.id, requests, method=form.method.data, reason=form.reason.data,
                              key=form.key.data or "", actor=current_user._get_current_object(),
                              payment_methods=current_app.config["PAYMENT_METHODS"],
                              number_prefix=current_app.config["REFUND_NUMBER_PREFIX"])
        db.session.commit()
    except RuleError as exc:
        db.session.rollback()
        target = {"method": form.method, "reason": form.reason}.get(exc.field)
        (target.errors if target is not None else form.form_errors).append(str(exc.message))
        return _render(sale_receipt(db.session, sale_id), form, code=422)
    except IntegrityError:
        db.session.rollback()
        done = db.session.scalar(select(Refund).where(Refund.refund_key == (form.key.data or "")))
        if done is None:
            flash(_("Another desk refunded this sale at the same moment. Check it and try again."), "warning")
            return redirect(url_for("sales.refund", sale_id=sale_id))
    flash(_("Refund %(n)s: pay back %(amount)s by %(method)s.", n=done.number, amount=shop_money(done.amount_minor),
            method=current_app.jinja_env.globals["payment_method_label"](done.method)), "success")
    if done.points_kept_minor:
        flash(ngettext("%(num)d point earned on these items was already spent: %(amount)s is kept from the refund.",
                       "%(num)d points earned on these items were already spent: %(amount)s is kept from the "
                       "refund.", done.points_shortfall, amount=shop_money(done.points_kept_minor)), "warning")
    return redirect(url_for("sales.detail", sale_id=sale_id))
