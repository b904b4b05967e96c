"""The manager's loyalty settings: the program, earn rates, tiers, coupon templates, promo codes and
the audit log of every change."""


from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import column, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from crm import audit as audit_log
from crm.auth.access import acting_staff, roles_required
from crm.auth.models import Role
from crm.extensions import db
from crm.forms_common import choices
from crm.loyalty import bp, coupon_admin, program
from crm.loyalty.ledger import LoyaltyError
from crm.loyalty.models import Coupon, CouponTemplate, Tier
from crm.loyalty.settings_forms import (
    CouponTemplateForm,
    ProgramForm,
    PromoCodeForm,
    TierForm,
    earn_rates_form_class,
    rate_field_name,
)
from crm.numbers import whole_number
from crm.pagination import page_arg

# Item categories live in crm.orders, which loyalty must not import: read the table by name.
_item_category = table("orders_item_category", column("code"), column("name"))


def line_categories() -> list[tuple[str, str]]:
    rows = db.session.execute(select(_item_category.c.code, _item_category.c.name)
                              .order_by(_item_category.c.name)).all()
    fixed = [("repair_labour", _("Repair labour")), ("repair_part", _("Repair parts"))]
    return [*fixed, *[(r.code, r.name) for r in rows]]



def _program_form(formdata=None) -> ProgramForm:
    current = program.get_program(db.session)
    form = ProgramForm(formdata=formdata)
    form.redeem_categories.choices = choices(line_categories())
    templates = coupon_admin.active_templates(db.session)
    form.repair_coupon_template_id.choices = choices([("", _("No coupon")), *[(str(t.id), t.name) for t in templates]])
    if formdata is None:
        for name in ("enabled", "enrolment", "min_balance_to_redeem", "expiry_months", "expiry_warning_days",
                     "welcome_bonus", "birthday_bonus", "anniversary_bonus", "referral_bonus", "referee_bonus",
                     "tier_window_months"):
            getattr(form, name).data = getattr(current, name)
        form.point_value.data = current.point_value_minor
        form.redeem_cap.data = current.redeem_cap_bp
        form.redeem_categories.data = sorted(program.codes(current.redeem_categories))
        form.repair_coupon_template_id.data = str(current.repair_coupon_template_id or "")
    return form


def _rates_form(formdata=None):
    categories = line_categories()
    form = earn_rates_form_class(categories)(formdata=formdata)
    if formdata is None:
        rates = program.earn_rates(db.session)
        for code, _name in categories:
            getattr(form, rate_field_name(code)).data = rates.get(code, 0)
    return form, categories


def _render_settings(form=None, rates_form=None, code=200):
    rates, categories = _rates_form() if rates_form is None else (rates_form, line_categories())
    return render_template("loyalty/settings/program.html", form=form or _program_form(), rates_form=rates,
                           rate_fields=[getattr(rates, rate_field_name(c)) for c, _n in categories]), code


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def settings():
    if request.method == "GET":
        return _render_settings()
    form = _program_form(formdata=request.form)
    if not form.validate_on_submit():
        return _render_settings(form=form, code=422)
    if form.point_value.data <= 0:
        form.point_value.errors.append(_("A point must be worth something."))
        return _render_settings(form=form, code=422)
    template_id = form.repair_coupon_template_id.data or ""
    values = {name: getattr(form, name).data for name in (
        "enabled", "enrolment", "min_balance_to_redeem", "expiry_months", "expiry_warning_days", "welcome_bonus",
        "birthday_bonus", "anniversary_bonus", "referral_bonus", "referee_bonus", "tier_window_months")}
    values.update(point_value_minor=form.point_value.data, redeem_cap_bp=form.redeem_cap.data,
                  redeem_categories=",".join(sorted(form.redeem_categories.data or [])),
                  repair_coupon_template_id=whole_number(template_id))
    values["enabled"] = bool(values["enabled"])
    changed = program.update_program(db.session, values, actor=acting_staff())
    db.session.commit()
    flash(_("Settings saved (%(n)d changed).", n=len(changed)), "success")
    return redirect(url_for("loyalty.settings"))


@bp.route("/settings/rates", methods=["POST"])
@roles_required(Role.MANAGER)
def earn_rates():
    form, categories = _rates_form(formdata=request.form)
    if not form.validate_on_submit():
        return _render_settings(rates_form=form, code=422)
    changed = program.set_earn_rates(db.session, {code: getattr(form, rate_field_name(code)).data or 0
                                                  for code, _name in categories}, actor=acting_staff())
    db.session.commit()
    flash(_("Earn rates saved (%(n)d changed).", n=len(changed)), "success")
    return redirect(url_for("loyalty.settings"))


@bp.route("/tiers")
@roles_required(Role.MANAGER)
def tiers():
    return render_template("loyalty/settings/tiers.html", tiers=program.tiers(db.session))


def _tier_values(form: TierForm) -> dict:
    return {"name": form.name.data.strip(), "rank": form.rank.data, "min_spend_minor": form.min_spend.data,
            "min_repairs": form.min_repairs.data, "earn_multiplier_pct": form.earn_multiplier.data,
            "accessory_discount_bp": form.accessory_discount.data, "free_diagnostics": bool(form.free_diagnostics.data),
            "queue_priority": bool(form.queue_priority.data)}


@bp.route("/tiers/new", methods=["GET", "POST"], defaults={"tier_id": None})
@bp.route("/tiers/<int:tier_id>/edit", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def tier_form(tier_id: int | None):
    tier = None
    if tier_id is not None:
        tier = db.session.get(Tier, tier_id) or abort(404)
    form = TierForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        if tier is not None:
            form.name.data, form.rank.data = tier.name, tier.rank
            form.min_spend.data, form.min_repairs.data = tier.min_spend_minor, tier.min_repairs
            form.earn_multiplier.data = tier.earn_multiplier_pct
            form.accessory_discount.data = tier.accessory_discount_bp
            form.free_diagnostics.data, form.queue_priority.data = tier.free_diagnostics, tier.queue_priority
        else:
            form.earn_multiplier.data, form.accessory_discount.data = 100, 0
    elif form.validate_on_submit():
        values = _tier_values(form)
        for name, message in program.tier_clashes(db.session, tier, values).items():
            getattr(form, name).errors.append(message)  # both at once; save_tier refuses them too
        if not form.errors:
            try:
                with db.session.begin_nested():
                    program.save_tier(db.session, tier, values, actor=acting_staff())
            except IntegrityError:
                form.rank.errors.append(_("Another tier has this name or rank."))
            else:
                db.session.commit()
                flash(_("Tier %(name)s saved.", name=values["name"]), "success")
                return redirect(url_for("loyalty.tiers"))
    code = 422 if request.method == "POST" else 200
    title = _("Edit tier %(name)s", name=tier.name) if tier else _("New tier")
    return render_template("loyalty/settings/form.html", form=form, title=title,
                           back=url_for("loyalty.tiers")), code


@bp.route("/coupons")
@roles_required(Role.MANAGER)
def coupons():
    templates = db.session.scalars(select(CouponTemplate).order_by(CouponTemplate.name)).all()
    promos = db.session.scalars(select(Coupon).where(Coupon.kind == "promo").order_by(Coupon.id.desc())
                                .limit(200).options(selectinload(Coupon.template))).all()
    names = dict(line_categories())
    return render_template("loyalty/settings/coupons.html", templates=templates, promos=promos, names=names)


@bp.route("/coupons/templates/new", methods=["GET", "POST"], defaults={"template_id": None})
@bp.route("/coupons/templates/<int:template_id>/edit", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def template_form(template_id: int | None):
    template = None
    if template_id is not None:
        template = db.session.get(CouponTemplate, template_id) or abort(404)
    form = CouponTemplateForm(formdata=request.form if request.method == "POST" else None)
    form.categories.choices = choices(line_categories())
    if request.method == "GET":
        if template is not None:
            form.name.data, form.kind.data, form.active.data = template.name, template.kind, template.active
            if template.kind == "percent":
                form.percent.data = template.value
            else:
                form.amount.data = template.value
            form.categories.data = sorted(program.codes(template.categories))
            form.min_bill.data, form.validity_days.data = template.min_bill_minor, template.validity_days
        else:
            form.categories.data, form.validity_days.data = ["accessory"], 30
    elif form.validate_on_submit():
        value = (form.percent.data if form.kind.data == "percent" else form.amount.data) or 0
        values = {"name": form.name.data.strip(), "kind": form.kind.data, "value": value,
                  "categories": ",".join(sorted(form.categories.data or [])), "min_bill_minor": form.min_bill.data or 0,
                  "validity_days": form.validity_days.data, "active": bool(form.active.data)}
        try:
            coupon_admin.save_template(db.session, template, values, actor=acting_staff())
        except LoyaltyError as exc:
            db.session.rollback()
            getattr(form, exc.field or "name").errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Coupon template %(name)s saved.", name=values["name"]), "success")
            return redirect(url_for("loyalty.coupons"))
    code = 422 if request.method == "POST" else 200
    title = _("Edit coupon template %(name)s", name=template.name) if template else _("New coupon template")
    return render_template("loyalty/settings/form.html", form=form, title=title,
                           back=url_for("loyalty.coupons")), code


@bp.route("/coupons/promo/new", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def promo_form():
    form = PromoCodeForm(formdata=request.form if request.method == "POST" else None)
    templates = coupon_admin.active_templates(db.session)
    form.template_id.choices = choices((str(t.id), t.name) for t in templates)
    if request.method == "POST" and form.validate_on_submit():
        start, end = coupon_admin.validity_instants(form.valid_from.data, form.valid_until.data)
        template = db.session.get(CouponTemplate, int(form.template_id.data))
        try:
            coupon = coupon_admin.create_promo_code(db.session, template, form.code.data, form.usage_limit.data,
                                                    start, end, actor=acting_staff())
        except LoyaltyError as exc:
            db.session.rollback()
            getattr(form, exc.field or "code").errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Promo code %(code)s created.", code=coupon.code), "success")
            return redirect(url_for("loyalty.coupons"))
    elif request.method == "GET":
        form.usage_limit.data = 100
    code = 422 if request.method == "POST" else 200
    return render_template("loyalty/settings/form.html", form=form, title=_("New promo code"),
                           back=url_for("loyalty.coupons")), code


@bp.route("/audit")
@roles_required(Role.MANAGER)
def audit():
    page = page_arg()
    per_page = current_app.config["PAGE_SIZE"]
    entries, has_next = audit_log.audit_page(db.session, audit_log.AuditFilters(areas=audit_log.SETTINGS_AREAS),
                                             page=page, per_page=per_page)
    return render_template("loyalty/settings/audit.html", entries=entries, page=page, has_next=has_next)
