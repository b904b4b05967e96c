"""The manager's work with personal data: one customer's export (POST /customers/<id>/export, a ZIP), the whole
customer list (POST /customers/export.csv) and erasing a customer (/customers/<id>/erase, after typing their phone
number). Each is written to the change log (who and when)."""

from flask import Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, Length

from crm.audit import record_change
from crm.auth.access import acting_staff, roles_required
from crm.auth.models import Role
from crm.customers.models import Customer
from crm.customers.phones import InvalidPhone, normalize_phone
from crm.customers.profile import ProfileSection, register_profile_section
from crm.database import utcnow
from crm.extensions import db
from crm.forms_common import CrmForm
from crm.locales import lazy_gettext as _l
from crm.privacy import bp, customer_list, erase, export
from crm.reports.csv_export import csv_response
from crm.shop_time import local_now


class ExportCustomerForm(CrmForm):
    submit = SubmitField(_l("Export all data of this customer (ZIP)"))


class ExportListForm(CrmForm):
    submit = SubmitField(_l("Download the customer list (CSV)"))


class EraseCustomerForm(CrmForm):
    confirm = StringField(_l("Type the customer's phone number to confirm"),
                          validators=[InputRequired(_l("Type the customer's phone number.")), Length(max=40)])
    submit = SubmitField(_l("Erase the personal data"))


HEADER = {"id": _l("Customer no."), "name": _l("Name"), "phone": _l("Phone"), "email": _l("E-mail"),
          "birthday": _l("Birthday"), "language": _l("Language"), "preferred_channel": _l("Preferred channel"),
          "service_consent": _l("Service messages"), "marketing_consent": _l("Marketing messages"),
          "marketing_consent_at": _l("Marketing consent changed (UTC)"), "customer_since": _l("Customer since (UTC)"),
          "member": _l("Loyalty member"), "member_since": _l("Member since (UTC)"), "tier": _l("Tier"),
          "points_balance": _l("Points balance"), "paid_sales": _l("Paid sales"),
          "paid_minor": _l("Paid, in minor units"), "refunded_minor": _l("Refunded, in minor units"),
          "last_paid_at": _l("Last paid sale (UTC)")}


def _section(session, customer):
    return {"export_form": ExportCustomerForm() if current_user.role == Role.MANAGER else None}


register_profile_section(ProfileSection(template="privacy/_customer_privacy.html", context=_section, order=95))


@bp.route("/customers/<int:customer_id>/export", methods=["POST"])
@roles_required(Role.MANAGER)
def export_customer(customer_id: int):
    customer = db.get_or_404(Customer, customer_id)
    if not ExportCustomerForm().validate_on_submit():
        abort(400)
    now = utcnow()
    document = export.collect(db.session, customer.id, currency=current_app.config["CURRENCY"], now=now)
    record_change(db.session, f"customer:{customer.id}", "personal data exported", "", "zip", acting_staff(), now)
    db.session.commit()
    filename = f"customer-{customer.id}-{local_now().date().isoformat()}.zip"
    return Response(export.to_zip(document), mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


@bp.route("/customers/export.csv", methods=["POST"])
@roles_required(Role.MANAGER)
def export_list():
    if not ExportListForm().validate_on_submit():
        abort(400)
    record_change(db.session, "customers", "customer list exported", "", "csv", acting_staff(), utcnow())
    db.session.commit()
    header = [str(HEADER[name]) for name in customer_list.COLUMNS]
    rows = customer_list.rows(db.session, yes=str(_l("yes")), no=str(_l("no")))
    return csv_response(f"customers-{local_now().date().isoformat()}.csv", header, rows)


@bp.route("/customers/<int:customer_id>/erase", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def erase_customer(customer_id: int):
    customer = db.get_or_404(Customer, customer_id)
    form = EraseCustomerForm()
    if customer.erased_at is None and form.validate_on_submit():
        if _typed_phone(form.confirm.data) != customer.phone:
            form.confirm.errors.append(_("This is not the customer's phone number."))
        else:
            try:
                erase.erase(db.session, customer, placeholder_name=_("Erased customer %(id)s", id=customer.id),
                            actor=acting_staff(), now=utcnow())
            except erase.EraseError as exc:
                db.session.rollback()
                form.confirm.errors.append(str(exc.message))
            else:
                db.session.commit()
                flash(_("The customer's personal data is erased. Their sales and points records stay, anonymous."),
                      "success")
                return redirect(url_for("customers.profile", customer_id=customer_id))
    code = 422 if form.errors else 200
    return render_template("privacy/erase.html", customer=customer, form=form,
                           refusal=erase.refusal(db.session, customer.id) if customer.erased_at is None else None), code


def _typed_phone(text: str) -> str | None:
    try:
        return normalize_phone(text, current_app.config["PHONE_REGION"])
    except InvalidPhone:
        return None
