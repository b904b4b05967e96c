"""Sales pages: the list, the cart with its checkout, the paid sale and its receipt, the end-of-day report."""

import secrets
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm.auth.access import acting_staff, roles_required
from crm.auth.models import Role
from crm.catalogue import service as catalogue
from crm.customers import telegram
from crm.customers.models import Customer
from crm.customers.phones import InvalidPhone, normalize_phone
from crm.customers.profile import ProfileSection, register_profile_section
from crm.customers.service import find_by_phone
from crm.database import utcnow
from crm.errors import RuleError
from crm.extensions import db
from crm.forms_common import ConfirmForm
from crm.locales import in_language
from crm.money import shop_money
from crm.numbers import whole_number
from crm.orders.models import RepairOrder
from crm.orders.tracking import tracking_link
from crm.pagination import date_arg, page_arg
from crm.receipts import qr_code, receipt_language, receipt_size
from crm.sales import bp, checkout, pricing
from crm.sales import end_of_day as reports
from crm.sales import loyalty as sale_loyalty
from crm.sales import queries as sales_queries
from crm.sales.bill import bill_lines, price_bill
from crm.sales.forms import AddItemForm, CustomerPickForm, LoyaltyForm, checkout_form_class
from crm.sales.models import Sale, SaleStatus
from crm.sales.refunds import refunds_of_sale
from crm.shop_time import local_now

DESK = (Role.FRONT_DESK,)

register_profile_section(ProfileSection(
    template="sales/_customer_sales.html",
    context=lambda session, customer: {"sales": sales_queries.sales_of_customer(session, customer.id)},
    order=20,
))



@bp.route("")
@roles_required(*DESK)
def index():
    page = page_arg()
    number = request.args.get("q", "").strip()[:32]
    sales, has_next = sales_queries.paid_sales(db.session, number=number, page=page,
                                               per_page=current_app.config["PAGE_SIZE"])
    carts = sales_queries.open_carts(db.session) if page == 1 and not number else []
    return render_template("sales/index.html", sales=sales, carts=carts, page=page, has_next=has_next, q=number,
                           confirm_form=ConfirmForm(formdata=None))


@bp.route("/new", methods=["POST"])
@roles_required(*DESK)
def new():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    customer = None
    customer_id = request.form.get("customer_id", "")
    if customer_id:  # "New sale for this customer" on the profile
        number = whole_number(customer_id)
        if number is None:
            abort(404)
        customer = db.session.get(Customer, number) or abort(404)
    sale = checkout.open_sale(db.session, actor=acting_staff(), customer=customer)
    db.session.commit()
    return redirect(url_for("sales.cart", sale_id=sale.id))


@bp.route("/for-order/<int:order_id>", methods=["POST"])
@roles_required(*DESK)
def for_order(order_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db.get_or_404(RepairOrder, order_id)
    try:
        sale = checkout.sale_for_repair(db.session, order_id, actor=acting_staff())
    except RuleError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for("orders.detail", order_id=order_id))
    db.session.commit()
    return redirect(url_for("sales.cart", sale_id=sale.id))


def _checkout_form(formdata=None, key: str | None = None, total: int | None = None):
    form_class = checkout_form_class(current_app.config["PAYMENT_METHODS"])
    form = form_class(formdata=formdata)
    if formdata is None:
        form.key.data = key or secrets.token_urlsafe(24)
        form.expected_total.data = str(total if total is not None else "")
    return form


def _loyalty_request(form: LoyaltyForm) -> sale_loyalty.LoyaltyRequest:
    return sale_loyalty.LoyaltyRequest(points=form.points.data or 0, use_max=bool(form.use_max.data),
                                       coupon_code=(form.coupon.data or "").strip())


def _add_error(form, field_name: str | None, message) -> None:
    target = getattr(form, field_name or "points", None) or form.points
    target.errors = [*target.errors, str(message)]


def _bill_and_plan(sale: Sale, loyalty_form: LoyaltyForm, *, warranty_return: bool = False, sale_lines=None):
    """The bill with the loyalty choices applied; a refused choice is shown next to its field and the
    bill is shown without it. A warranty return's repair earns no points (crm.orders.warranty)."""
    lines = bill_lines(db.session, sale, sale_lines)
    inputs = [line.pricing_input() for line in lines]
    wanted = _loyalty_request(loyalty_form) if not loyalty_form.errors else sale_loyalty.LoyaltyRequest()
    try:
        plan = sale_loyalty.plan(db.session, sale.customer_id, inputs, wanted, now=utcnow(), locked=False,
                                 warranty_return=warranty_return)
    except RuleError as exc:  # a refused loyalty choice or a discount larger than its lines
        _add_error(loyalty_form, exc.field, exc.message)
        plan = sale_loyalty.plan(db.session, sale.customer_id, inputs, sale_loyalty.LoyaltyRequest(), now=utcnow(),
                                 locked=False, warranty_return=warranty_return)
    return price_bill(lines, plan.adjustments), plan


def _render_cart(sale: Sale, *, pick_form=None, item_form=None, pay_form=None, loyalty_form=None, code=200,
                 sale_lines=None):
    loyalty_form = loyalty_form or LoyaltyForm(formdata=None)
    customer = order = None
    if sale.repair_order_id:
        order = db.session.get(RepairOrder, sale.repair_order_id)
    warranty_return = order is not None and order.warranty_of_id is not None
    bill, plan = _bill_and_plan(sale, loyalty_form, warranty_return=warranty_return, sale_lines=sale_lines)
    if loyalty_form.errors and code == 200:
        code = 422
    if sale.customer_id:
        customer = db.session.get(Customer, sale.customer_id)
    if pay_form is None:
        pay_form = _checkout_form(total=bill.quote.total_minor)
    else:
        # A refused payment keeps what was typed; the total shown is the one the server holds now.
        pay_form.expected_total.data = str(bill.quote.total_minor)
    pay_form.loyalty_points.data = str(plan.points)
    pay_form.loyalty_coupon.data = plan.coupon.code if plan.coupon is not None else ""
    query = request.args.get("q", "").strip()[:60]
    found = []
    if query:
        found, _has_next = catalogue.search_items(db.session, query, page=1, per_page=10, active_only=True)
    return render_template(
        "sales/cart.html", sale=sale, bill=bill, rows=list(zip(bill.lines, bill.quote.lines, strict=True)),
        customer=customer, order=order, q=query, found=found, plan=plan, loyalty_form=loyalty_form,
        pick_form=pick_form or CustomerPickForm(formdata=None), item_form=item_form or AddItemForm(formdata=None),
        pay_form=pay_form, confirm_form=ConfirmForm(formdata=None),
    ), code


@bp.route("/<int:sale_id>")
@roles_required(*DESK)
def cart(sale_id: int):
    sale = sales_queries.cart(db.session, sale_id)
    if sale is None:
        abort(404)
    if sale.status == SaleStatus.PAID:
        return redirect(url_for("sales.detail", sale_id=sale.id))
    loyalty_form = LoyaltyForm(formdata=None)
    if any(name in request.args for name in ("points", "use_max", "coupon")):
        loyalty_form = LoyaltyForm(formdata=request.args)
        loyalty_form.validate()
    return _render_cart(sale, loyalty_form=loyalty_form, sale_lines=sale.lines)  # read with the sale just now


def _open_sale_for_change(sale_id: int) -> Sale:
    sale = db.session.scalar(select(Sale).where(Sale.id == sale_id).with_for_update())
    if sale is None:
        abort(404)
    return sale


@bp.route("/<int:sale_id>/customer", methods=["POST"])
@roles_required(*DESK)
def set_customer(sale_id: int):
    sale = _open_sale_for_change(sale_id)
    if request.form.get("walk_in"):
        if not ConfirmForm().validate_on_submit():
            abort(400)
        customer = None
    else:
        form = CustomerPickForm()
        if not form.validate_on_submit():
            return _render_cart(sale, pick_form=form, code=422)
        try:
            customer = find_by_phone(db.session, normalize_phone(form.phone.data, current_app.config["PHONE_REGION"]))
        except InvalidPhone as exc:
            form.phone.errors.append(str(exc.message))
            return _render_cart(sale, pick_form=form, code=422)
        if customer is None:
            form.phone.errors.append(_("No customer has this phone number. Create the customer first."))
            return _render_cart(sale, pick_form=form, code=422)
    try:
        checkout.set_customer(db.session, sale, customer)
    except RuleError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        db.session.commit()
    return redirect(url_for("sales.cart", sale_id=sale_id))


@bp.route("/<int:sale_id>/items", methods=["POST"])
@roles_required(*DESK)
def add_item(sale_id: int):
    sale = _open_sale_for_change(sale_id)
    form = AddItemForm()
    if form.validate_on_submit():
        item = catalogue.find_by_sku(db.session, form.sku.data)
        try:
            if item is None:
                raise checkout.CheckoutError(_("No item has this SKU."), field="sku")
            amount, percent = checkout.parse_discount(form.discount.data, current_app.config["CURRENCY"])
            checkout.add_item(db.session, sale, item, form.quantity.data, discount_minor=amount,
                              discount_percent=percent)
        except RuleError as exc:
            db.session.rollback()
            field = {"item": "sku"}.get(exc.field, exc.field) or "sku"
            getattr(form, field, form.sku).errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("%(item)s added.", item=item.name), "success")
            return redirect(url_for("sales.cart", sale_id=sale_id))
    return _render_cart(db.get_or_404(Sale, sale_id), item_form=form, code=422)


@bp.route("/<int:sale_id>/lines/<int:line_id>/delete", methods=["POST"])
@roles_required(*DESK)
def remove_line(sale_id: int, line_id: int):
    sale = _open_sale_for_change(sale_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        checkout.remove_line(db.session, sale, line_id)
    except RuleError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        db.session.commit()
        flash(_("Line removed."), "success")
    return redirect(url_for("sales.cart", sale_id=sale_id))


@bp.route("/<int:sale_id>/discard", methods=["POST"])
@roles_required(*DESK)
def discard(sale_id: int):
    sale = _open_sale_for_change(sale_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        checkout.discard(db.session, sale)
    except RuleError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for("sales.detail", sale_id=sale_id))
    db.session.commit()
    flash(_("The bill was discarded."), "success")
    return redirect(url_for("sales.index"))


@bp.route("/<int:sale_id>/pay", methods=["POST"])
@roles_required(*DESK)
def pay(sale_id: int):
    form = _checkout_form(formdata=request.form)  # a sale that does not exist: refused by checkout(), then 404
    if not form.validate_on_submit():
        return _render_cart(db.get_or_404(Sale, sale_id), pay_form=form, code=422)
    expected = whole_number(form.expected_total.data, maximum=10**18)  # compared with the bill's total
    tenders = [pricing.Tender(method, amount) for method, amount in form.tenders()]
    loyalty = sale_loyalty.LoyaltyRequest.at_payment(form.loyalty_points.data, form.loyalty_coupon.data)
    try:
        sale = checkout.checkout(
            db.session, sale_id, key=form.key.data or "", tenders=tenders,
            expected_total_minor=-1 if expected is None else expected,  # tampered or missing: refused as changed
            actor=acting_staff(), payment_methods=current_app.config["PAYMENT_METHODS"],
            number_prefix=current_app.config["SALE_NUMBER_PREFIX"], loyalty=loyalty)
        paid_id, change_minor = sale.id, sale.change_minor  # read before the commit expires them
        db.session.commit()
    except checkout.AlreadyPaid as exc:
        db.session.rollback()
        flash(str(exc.message), "warning")
        return redirect(url_for("sales.detail", sale_id=exc.sale.id))
    except RuleError as exc:
        db.session.rollback()
        return _refused_payment(sale_id, form, loyalty, exc)
    except IntegrityError:
        db.session.rollback()
        return _paid_meanwhile(sale_id, form.key.data or "")
    if change_minor:
        flash(_("Paid. Change due: %(change)s.", change=shop_money(change_minor)), "success")
    else:
        flash(_("Paid."), "success")
    return redirect(url_for("sales.detail", sale_id=paid_id))


def _refused_payment(sale_id: int, form, loyalty: sale_loyalty.LoyaltyRequest, exc: RuleError):
    """The cart again with the refusal next to its field and what the desk chose kept."""
    sale = db.get_or_404(Sale, sale_id)
    if sale.status == SaleStatus.PAID:  # e.g. this form's key was used with other payments: show what was paid
        flash(str(exc.message), "warning")
        return redirect(url_for("sales.detail", sale_id=sale.id))
    loyalty_form = LoyaltyForm(formdata=None, data={"points": max(loyalty.points, 0), "coupon": loyalty.coupon_code})
    if exc.field in ("points", "coupon"):
        _add_error(loyalty_form, exc.field, exc.message)
        return _render_cart(sale, loyalty_form=loyalty_form, code=422)
    target = form.payment_fields()[0] if exc.field == "payments" and form.method_fields else None
    (target.errors if target is not None else form.form_errors).append(str(exc.message))
    return _render_cart(sale, pay_form=form, loyalty_form=loyalty_form, code=422)


def _paid_meanwhile(sale_id: int, key: str):
    """A second desk committed the same bill a moment earlier (UNIQUE key or order): show its result."""
    done = checkout.find_by_key(db.session, key)
    if done is not None:
        return redirect(url_for("sales.detail", sale_id=done.id))
    flash(_("Another desk changed this bill at the same moment. Check it and try again."), "warning")
    return redirect(url_for("sales.cart", sale_id=sale_id))


def _paid_sale(sale_id: int) -> Sale:
    sale = sales_queries.sale_receipt(db.session, sale_id)
    if sale is None:
        abort(404)
    return sale


@bp.route("/<int:sale_id>/paid")
@roles_required(*DESK)
def detail(sale_id: int):
    sale = _paid_sale(sale_id)
    if sale.status != SaleStatus.PAID:
        return redirect(url_for("sales.cart", sale_id=sale.id))
    return render_template("sales/detail.html", sale=sale, refunds=refunds_of_sale(db.session, sale.id))


@bp.route("/<int:sale_id>/receipt")
@roles_required(*DESK)
def receipt(sale_id: int):
    sale = _paid_sale(sale_id)
    if sale.status != SaleStatus.PAID:
        return redirect(url_for("sales.cart", sale_id=sale.id))
    size = receipt_size()
    url = qr = None
    if sale.repair_order is not None:
        url = tracking_link(sale.repair_order.tracking_token)
        qr = qr_code(url)
    telegram_link = telegram.shown_link(db.session, sale.customer_id)
    customer = db.session.get(Customer, sale.customer_id) if sale.customer_id else None
    language = receipt_language(customer.language if customer else None)
    with in_language(language):
        return render_template("sales/receipt.html", sale=sale, size=size, tracking_url=url, qr=qr,
                               refunds=refunds_of_sale(db.session, sale.id), telegram_link=telegram_link,
                               receipt_lang=language)


@bp.route("/end-of-day")
@roles_required(Role.FRONT_DESK)
def end_of_day():
    now = local_now()
    today = now.date()
    day = date_arg("day")
    notice = None
    if day is None:
        if request.args.get("day"):
            # A typed or edited URL with a date that is not one (or beyond what the calendar can bound).
            notice = _("That is not a day the report can show; showing today instead.")
        day = today
    report = reports.end_of_day(db.session, day, now.tzinfo, methods=current_app.config["PAYMENT_METHODS"])
    return render_template("sales/end_of_day.html", report=report, today=today, printed_at=now, notice=notice,
                           previous_day=day - timedelta(days=1), next_day=day + timedelta(days=1))
