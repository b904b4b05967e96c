
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from crm.auth.access import ALL_STAFF, roles_required
from crm.auth.models import Role
from crm.auth.service import active_technicians
from crm.catalogue.service import find_by_sku
from crm.customers import telegram
from crm.customers.models import Customer
from crm.customers.profile import ProfileSection, register_profile_section
from crm.database import utcnow
from crm.extensions import db
from crm.forms_common import ConfirmForm, choices
from crm.locales import in_language
from crm.numbers import whole_number
from crm.orders import bp, queries, quotes, sections, service, warranty
from crm.orders.forms import LineForm, OrderForm, PhoneDecisionForm, StatusForm
from crm.orders.models import RepairOrder
from crm.orders.status import Status, allowed_targets
from crm.orders.tracking import tracking_link
from crm.pagination import date_arg, page_arg
from crm.receipts import qr_code, receipt_language, receipt_size
from crm.shop_time import local_date, shop_tz

register_profile_section(ProfileSection(
    template="orders/_customer_orders.html",
    context=lambda session, customer: {"orders": queries.orders_of_customer(session, customer.id)},
    order=10,
))


def _technician_choices():
    return choices([("", _("Unassigned"))] + [(str(t.id), t.full_name) for t in active_technicians(db.session)])


def _warranty_choices(customer_id: int, order=None):
    """The customer's orders still under warranty; on the edit page also the order already linked."""
    found = warranty.warranty_candidates(db.session, customer_id, local_date(utcnow()),
                                         exclude_id=order.id if order else None)
    if order is not None and order.warranty_of_id and order.warranty_of_id not in {o.id for o in found}:
        linked = db.session.get(RepairOrder, order.warranty_of_id)
        found = [linked, *found] if linked is not None else found
    return choices([("", _("Not a warranty return"))] + [
        (str(o.id), _("%(n)s, %(brand)s %(model)s, picked up %(day)s", n=o.number, brand=o.brand, model=o.model,
                      day=format_date(local_date(o.closed_at)))) for o in found])


def _warranty_of(form: OrderForm) -> int | None:
    """The chosen earlier order's id; anything that is not one is refused next to the field."""
    text = (form.warranty_of_id.data or "").strip()
    if not text:
        return None
    number = whole_number(text)
    if number is None:
        raise service.OrderError(_("Choose an earlier order of this customer."), field="warranty_of_id")
    return number


def _order_data(form: OrderForm) -> service.OrderData:
    return service.OrderData(
        device_type=form.device_type.data, brand=form.brand.data, model=form.model.data,
        problem=form.problem.data, serial_number=form.serial_number.data or "", imei=form.imei.data or "",
        condition=form.condition.data or "", accessories=form.accessories.data or "",
        estimate_minor=form.estimate.data, due_date=form.due_date.data, priority=form.priority.data,
        technician_id=int(form.technician_id.data) if form.technician_id.data else None,
        warranty_days=form.warranty_days.data, repair_kind=form.repair_kind.data or "",
        warranty_of_id=_warranty_of(form),
    )


def load_order(order_id: int):
    return queries.order_detail(db.session, order_id) or abort(404)


def _locked(order_id: int):
    """The order, row-locked until the view commits: the changes below read, check and write it."""
    return service.lock_order(db.session, order_id) or abort(404)


@bp.route("")
@roles_required(*ALL_STAFF)
def index():
    args = request.args
    date_from, date_to = date_arg("from"), date_arg("to")
    filters = queries.OrderFilters(
        status=args.get("status", "") if args.get("status", "") in {*Status, "open", ""} else "",
        technician=args.get("technician", "")[:12], date_from=date_from, date_to=date_to,
        text=args.get("q", "")[:100],
    )
    page = page_arg()
    orders, has_next = queries.list_orders(db.session, filters, tz=shop_tz(),
                                           page=page, per_page=current_app.config["PAGE_SIZE"])
    return render_template("orders/index.html", orders=orders, filters=filters, page=page, has_next=has_next,
                           technicians=active_technicians(db.session), statuses=list(Status))


@bp.route("/queue")
@roles_required(Role.TECHNICIAN)
def queue():
    page = page_arg()
    orders, has_next = queries.technician_queue(db.session, current_user.id, page=page,
                                                per_page=current_app.config["PAGE_SIZE"])
    return render_template("orders/queue.html", orders=orders, page=page, has_next=has_next)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.FRONT_DESK)
def new():
    customer_id = whole_number(request.args.get("customer_id"))
    customer = db.session.get(Customer, customer_id) if customer_id else None
    if customer is None:
        flash(_("Find or add the customer first, then take the device in from their page."), "info")
        return redirect(url_for("customers.index"))
    form = OrderForm()
    form.technician_id.choices = _technician_choices()
    form.warranty_of_id.choices = _warranty_choices(customer.id)
    if request.method == "GET":
        form.warranty_days.data = current_app.config["DEFAULT_WARRANTY_DAYS"]
    if form.validate_on_submit():
        try:
            order = service.create_order(db.session, customer, _order_data(form),
                                         created_by=current_user._get_current_object(),
                                         number_prefix=current_app.config["ORDER_NUMBER_PREFIX"])
        except service.OrderError as exc:
            db.session.rollback()
            getattr(form, exc.field or "brand").errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Order %(number)s created.", number=order.number), "success")
            return redirect(url_for("orders.detail", order_id=order.id))
    return render_template("orders/form.html", form=form, customer=customer, order=None)


@bp.route("/<int:order_id>/edit", methods=["GET", "POST"])
@roles_required(Role.FRONT_DESK)
def edit(order_id: int):
    order = load_order(order_id)
    form = OrderForm(obj=order)
    form.technician_id.choices = _technician_choices()
    form.warranty_of_id.choices = _warranty_choices(order.customer_id, order)
    if request.method == "GET":
        form.estimate.data = order.estimate_minor
        form.technician_id.data = str(order.technician_id or "")
        form.warranty_of_id.data = str(order.warranty_of_id or "")
    if form.validate_on_submit():
        try:
            service.update_order(db.session, order, _order_data(form))
        except service.OrderError as exc:
            db.session.rollback()
            order = load_order(order_id)  # the rollback expired it, and its relationships are lazy="raise"
            getattr(form, exc.field or "brand").errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Order %(number)s saved.", number=order.number), "success")
            return redirect(url_for("orders.detail", order_id=order.id))
    return render_template("orders/form.html", form=form, customer=order.customer, order=order)


def render_detail(order, status_form=None, line_form=None, phone_form=None, code=200):
    if status_form is None:
        status_form = StatusForm(formdata=None)
    targets = allowed_targets(order.status, current_user.role)
    # No status is pre-selected: one careless click must not cancel an order.
    status_form.status.choices = (
        choices([("", _("Choose…"))] + [(s.value, s.label) for s in targets]) if targets else [])
    status_form.expected_from.data = order.status
    line_form = line_form or LineForm(formdata=None)
    decisions = quotes.decisions_of(db.session, order.id)  # the current version's among them: not read again
    quote = quotes.current_quote(db.session, order, order.lines,
                                 decision=quotes.decision_among(decisions, order.quote_version))
    if phone_form is None:
        phone_form = PhoneDecisionForm(formdata=None)
    phone_form.quote_version.data = quote.version
    return render_template("orders/detail.html", order=order, totals=service.order_totals(order.lines),
                           quote=quote, decisions=decisions, phone_form=phone_form,
                           can_record_decision=current_user.has_role(Role.FRONT_DESK)
                           and order.status == Status.AWAITING_APPROVAL and quote.decision is None,
                           status_form=status_form, line_form=line_form, confirm_form=ConfirmForm(formdata=None),
                           can_edit=current_user.has_role(Role.FRONT_DESK),
                           sections=sections.order_page_sections(db.session, order)), code


@bp.route("/<int:order_id>")
@roles_required(*ALL_STAFF)
def detail(order_id: int):
    return render_detail(load_order(order_id))


@bp.route("/<int:order_id>/status", methods=["POST"])
@roles_required(*ALL_STAFF)
def change_status(order_id: int):
    order = _locked(order_id)
    form = StatusForm()
    form.status.choices = choices([("", "")] + [(s.value, s.label) for s in Status])
    if form.validate_on_submit():
        try:
            service.change_status(db.session, order, form.status.data, actor=current_user._get_current_object(),
                                  note=form.note.data or "", expected_from=form.expected_from.data or None,
                                  on_approval=form.on_approval.data or None)
        except service.OrderError as exc:
            db.session.rollback()
            form.status.errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Order %(number)s is now: %(status)s.", number=order.number, status=Status(order.status).label),
                  "success")
            return redirect(url_for("orders.detail", order_id=order_id))
    return render_detail(load_order(order_id), status_form=keep_form(StatusForm, form), code=422)


def keep_form(form_class, validated_form, submitted=None):
    """A fresh form showing what the user typed plus the errors of the validated one."""
    form = form_class(formdata=MultiDict(request.form) if submitted is None else submitted)
    for name, field in validated_form._fields.items():
        form._fields[name].errors = list(field.errors)
    return form


@bp.route("/<int:order_id>/lines", methods=["POST"])
@roles_required(*ALL_STAFF)
def add_line(order_id: int):
    order = _locked(order_id)
    form = LineForm()
    form.free_labour = order.warranty_of_id is not None
    if form.validate_on_submit():
        item = None
        try:
            if form.sku.data and form.sku.data.strip():
                item = find_by_sku(db.session, form.sku.data, active_only=True)
                if item is None:
                    raise service.OrderError(_("No active catalogue item has this SKU."), field="sku")
            service.add_line(db.session, order, kind=form.kind.data, description=form.description.data or "",
                             quantity=form.quantity.data, unit_price_minor=form.price.data,
                             actor=current_user._get_current_object(), item=item)
        except service.OrderError as exc:
            db.session.rollback()
            getattr(form, exc.field or "description", form.description).errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Line added."), "success")
            return redirect(url_for("orders.detail", order_id=order_id) + "#lines")
    return render_detail(load_order(order_id), line_form=form, code=422)


@bp.route("/<int:order_id>/lines/<int:line_id>/delete", methods=["POST"])
@roles_required(*ALL_STAFF)
def remove_line(order_id: int, line_id: int):
    order = _locked(order_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.remove_line(db.session, order, line_id, actor=current_user._get_current_object())
    except service.OrderError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        db.session.commit()
        flash(_("Line removed."), "success")
    return redirect(url_for("orders.detail", order_id=order_id) + "#lines")


@bp.route("/<int:order_id>/assign-me", methods=["POST"])
@roles_required(Role.TECHNICIAN)
def assign_me(order_id: int):
    order = _locked(order_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        service.assign_technician(db.session, order, current_user._get_current_object())
    except service.OrderError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        db.session.commit()
        flash(_("Order %(number)s is now yours.", number=order.number), "success")
    return redirect(url_for("orders.detail", order_id=order_id))


@bp.route("/<int:order_id>/receipt")
@roles_required(*ALL_STAFF)
def receipt(order_id: int):
    order = load_order(order_id)
    size = receipt_size()
    url = tracking_link(order.tracking_token)
    qr = qr_code(url)
    telegram_link = telegram.shown_link(db.session, order.customer_id) if current_user.has_role(Role.FRONT_DESK) \
        else None
    language = receipt_language(db.session.get(Customer, order.customer_id).language)
    with in_language(language):
        return render_template("orders/receipt.html", order=order, size=size, tracking_url=url, qr=qr,
                               totals=service.order_totals(order.lines), telegram_link=telegram_link,
                               receipt_lang=language)
