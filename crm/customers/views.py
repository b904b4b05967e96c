from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.auth.access import ALL_STAFF, acting_staff, roles_required
from crm.auth.models import Role
from crm.customers import bp, service, telegram
from crm.customers.forms import CustomerForm, TelegramLinkForm
from crm.customers.models import Customer
from crm.customers.profile import MESSAGES, OVERVIEW, POINTS, TAB_ENDPOINTS, TABS, profile_sections
from crm.extensions import db
from crm.pagination import page_arg


def _form_data(form: CustomerForm) -> service.CustomerData:
    return service.CustomerData(
        name=form.name.data, phone=form.phone.data, email=form.email.data,
        birthday=form.birthday.data, service_consent=form.service_consent.data,
        marketing_consent=form.marketing_consent.data, notes=form.notes.data or "",
        preferred_channel=form.preferred_channel.data or "auto", language=form.language.data or None,
    )


@bp.route("")
@roles_required(*ALL_STAFF)
def index():
    q = request.args.get("q", "")[:100]
    page = page_arg()
    customers, has_next = service.search_customers(
        db.session, q, page=page, per_page=current_app.config["PAGE_SIZE"])
    template = "customers/_results.html" if request.args.get("partial") else "customers/index.html"
    return render_template(template, customers=customers, q=q, page=page, has_next=has_next)


def _show_errors(form: CustomerForm, exc: service.CustomerError) -> dict:
    getattr(form, exc.field or "name").errors.append(str(exc.message))
    return {"duplicate": exc.existing} if isinstance(exc, service.DuplicatePhone) else {}


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.FRONT_DESK)
def new():
    form = CustomerForm()
    if request.method == "GET" and request.args.get("phone"):
        form.phone.data = request.args["phone"][:40]
    extra = {}
    if form.validate_on_submit():
        try:
            customer = service.create_customer(db.session, _form_data(form),
                                               region=current_app.config["PHONE_REGION"], actor=acting_staff())
        except service.CustomerError as exc:
            db.session.rollback()
            extra = _show_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Customer %(name)s added.", name=customer.name), "success")
            return redirect(url_for("customers.profile", customer_id=customer.id))
    return render_template("customers/form.html", form=form, customer=None, **extra)


@bp.route("/<int:customer_id>")
@roles_required(*ALL_STAFF)
def profile(customer_id: int):
    return render_profile(db.get_or_404(Customer, customer_id))


@bp.route("/<int:customer_id>/points")
@roles_required(*ALL_STAFF)
def profile_points(customer_id: int):
    """The points history tab of the customer's page."""
    return render_profile(db.get_or_404(Customer, customer_id), tab=POINTS)


@bp.route("/<int:customer_id>/messages")
@roles_required(*ALL_STAFF)
def profile_messages(customer_id: int):
    """The messages tab of the customer's page: feedback, messages sent, consent history."""
    return render_profile(db.get_or_404(Customer, customer_id), tab=MESSAGES)


def render_profile(customer: Customer, code: int = 200, refused: dict | None = None, tab: str = OVERVIEW):
    """The customer's page (one tab of it) with every module's section; other modules' views re-render it
    (422) when a form in their section was refused, passing that form in ``refused`` under its name in the
    section's context (``{"adjust_form": form}``), so what was typed stays next to its error."""
    sections = []
    for section in profile_sections(tab):
        context = section.context(db.session, customer)
        context.update({name: form for name, form in (refused or {}).items() if name in context})
        sections.append((section.template, context))
    desk = current_user.has_role(Role.FRONT_DESK)  # the Telegram code is for the desk to hand over, not for all
    telegram_link = telegram.shown_link(db.session, customer.id) if desk and tab == OVERVIEW else None
    return render_template("customers/profile.html", customer=customer, sections=sections, desk=desk, tab=tab,
                           tabs=TABS, tab_endpoints=TAB_ENDPOINTS, telegram_link=telegram_link,
                           telegram_form=TelegramLinkForm(), has_bot=bool(telegram.bot_username())), code


@bp.route("/<int:customer_id>/telegram/code", methods=["POST"])
@roles_required(Role.FRONT_DESK)
def new_telegram_code(customer_id: int):
    """A new Telegram link for the customer at the desk (the ones printed before stop working)."""
    customer = db.get_or_404(Customer, customer_id)
    if TelegramLinkForm().validate_on_submit() and telegram.bot_username():
        telegram.issue_code(db.session, customer.id, fresh=True)
        db.session.commit()
        flash(_("A new Telegram link is shown below. The customer opens it and presses Start."), "success")
    return redirect(url_for("customers.profile", customer_id=customer.id))


@bp.route("/<int:customer_id>/telegram/unlink", methods=["POST"])
@roles_required(Role.FRONT_DESK)
def unlink_telegram(customer_id: int):
    """For a customer who lost the phone of the linked chat: unlink it; the new link is shown below."""
    customer = db.get_or_404(Customer, customer_id)
    if TelegramLinkForm().validate_on_submit():
        telegram.unlink(db.session, customer)
        db.session.commit()
        flash(_("Telegram unlinked. Links printed before no longer work."), "success")
    return redirect(url_for("customers.profile", customer_id=customer.id))


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@roles_required(Role.FRONT_DESK)
def edit(customer_id: int):
    customer = db.get_or_404(Customer, customer_id)
    form = CustomerForm(obj=customer)
    extra = {}
    if form.validate_on_submit():
        try:
            service.update_customer(db.session, customer, _form_data(form),
                                    region=current_app.config["PHONE_REGION"], actor=acting_staff())
        except service.CustomerError as exc:
            db.session.rollback()
            extra = _show_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Customer %(name)s saved.", name=customer.name), "success")
            return redirect(url_for("customers.profile", customer_id=customer.id))
    return render_template("customers/form.html", form=form, customer=customer, **extra)
