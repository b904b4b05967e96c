"""The loyalty section of the customer's page and its forms: enrol, record the referrer, adjust points."""

import secrets

from flask import abort, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.auth.access import acting_staff, roles_required
from crm.auth.models import Role
from crm.customers.models import Customer
from crm.customers.profile import POINTS, ProfileSection, register_profile_section
from crm.customers.views import render_profile
from crm.database import utcnow
from crm.extensions import db
from crm.locales import lazy_gettext as _l
from crm.loyalty import accounts, bp, queries
from crm.loyalty.forms import AdjustPointsForm, EnrolForm, ReferrerForm
from crm.loyalty.ledger import LoyaltyError


def _section(session, customer):
    """The overview's loyalty card with the desk's and the manager's forms (built only for who sees them)."""
    return {"loyalty": queries.member_summary(session, customer.id, utcnow()),
            "enrol_form": EnrolForm(formdata=None) if current_user.has_role(Role.FRONT_DESK) else None,
            "adjust_form": AdjustPointsForm(formdata=None, key=secrets.token_urlsafe(24))
            if current_user.has_role(Role.MANAGER) else None,
            "referrer_form": ReferrerForm(formdata=None) if current_user.has_role(Role.FRONT_DESK) else None}


def _points_tab(session, customer):
    return {"loyalty": queries.member_page(session, customer.id, utcnow()),
            "history_length": queries.HISTORY_LENGTH}


KIND_LABELS = {"earn": _l("Earned"), "redeem": _l("Spent"), "expire": _l("Expired"), "adjust": _l("Adjusted"),
               "bonus": _l("Bonus"), "referral": _l("Referral bonus"), "reversal": _l("Refund")}


@bp.app_template_global()
def ledger_kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


register_profile_section(ProfileSection(template="loyalty/_customer_loyalty.html", context=_section, order=5))
register_profile_section(ProfileSection(template="loyalty/_customer_points.html", context=_points_tab, order=5,
                                        tab=POINTS))


def _customer(customer_id: int) -> Customer:
    return db.get_or_404(Customer, customer_id)

def _back(customer_id: int):
    return redirect(url_for("customers.profile", customer_id=customer_id) + "#loyalty")


@bp.route("/customers/<int:customer_id>/enrol", methods=["POST"])
@roles_required(Role.FRONT_DESK)
def enrol(customer_id: int):
    customer = _customer(customer_id)
    if not EnrolForm().validate_on_submit():
        abort(400)
    accounts.enrol(db.session, customer, actor=acting_staff())
    db.session.commit()
    flash(_("%(name)s is now in the loyalty program.", name=customer.name), "success")
    return _back(customer_id)


@bp.route("/customers/<int:customer_id>/referrer", methods=["POST"])
@roles_required(Role.FRONT_DESK)
def referrer(customer_id: int):
    customer = _customer(customer_id)
    form = ReferrerForm()
    if form.validate_on_submit():
        try:
            accounts.set_referrer(db.session, customer, form.referred_by.data,
                                  region=current_app.config["PHONE_REGION"], actor=acting_staff())
        except LoyaltyError as exc:
            db.session.rollback()
            form.referred_by.errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Referrer recorded."), "success")
            return _back(customer_id)
    return render_profile(_customer(customer_id), code=422, refused={"referrer_form": form})


@bp.route("/customers/<int:customer_id>/adjust", methods=["POST"])
@roles_required(Role.MANAGER)
def adjust(customer_id: int):
    customer = _customer(customer_id)
    form = AdjustPointsForm()
    if form.validate_on_submit():
        key = f"manual:{customer_id}:{(form.key.data or '')[:64]}"
        try:
            if not form.key.data:
                raise LoyaltyError(_("This form has expired; open the customer's page again."), field="points")
            accounts.adjust_points(db.session, customer, form.points.data, reason=form.reason.data, key=key,
                                   actor=acting_staff())
        except LoyaltyError as exc:
            db.session.rollback()
            target = form.reason if exc.field == "reason" else form.points
            target.errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Points adjusted."), "success")
            return _back(customer_id)
    return render_profile(_customer(customer_id), code=422, refused={"adjust_form": form})
