"""The manager's reminder settings (under Messages): the warranty-ending reminder and the check-up reminder per
kind of repair, with an optional coupon. The rules are crm.orders.reminders'."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crm.auth.access import acting_staff, roles_required
from crm.auth.models import Role
from crm.database import utcnow
from crm.extensions import db
from crm.forms_common import choices
from crm.loyalty.coupon_admin import active_templates
from crm.notifications.outbox import configured_channels
from crm.orders import bp, reminders
from crm.orders.device import REPAIR_KINDS
from crm.orders.forms import reminder_settings_form_class

ReminderSettingsForm = reminder_settings_form_class(list(REPAIR_KINDS))


def _form(formdata=None):
    form = ReminderSettingsForm(formdata=formdata)
    coupon_choices = choices([("", _("No coupon")), *[(str(t.id), t.name) for t in active_templates(db.session)]])
    for kind in REPAIR_KINDS:
        form[f"{kind}_coupon"].choices = coupon_choices
    if formdata is None:
        settings = reminders.get_reminder_settings(db.session)
        form.warranty_enabled.data = settings.warranty_enabled
        form.warranty_days_before.data = settings.warranty_days_before
        rules = reminders.checkup_rules(db.session)
        for kind in REPAIR_KINDS:
            rule = rules.get(kind)
            form[f"{kind}_enabled"].data = bool(rule and rule.enabled)
            form[f"{kind}_months"].data = rule.months if rule else reminders.SUGGESTED_MONTHS.get(kind, 12)
            form[f"{kind}_coupon"].data = str(rule.coupon_template_id or "") if rule else ""
    return form


def _checkups(form) -> dict[str, reminders.CheckupSetting]:
    saved = reminders.checkup_rules(db.session)
    result = {}
    for kind in REPAIR_KINDS:
        months = form[f"{kind}_months"].data
        if months is None:  # switched off and left empty: keep what was saved
            months = saved[kind].months if kind in saved else reminders.SUGGESTED_MONTHS.get(kind, 12)
        coupon = form[f"{kind}_coupon"].data
        result[kind] = reminders.CheckupSetting(bool(form[f"{kind}_enabled"].data), months,
                                                int(coupon) if coupon else None)
    return result


@bp.route("/reminder-settings", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def reminder_settings():
    if request.method == "GET":
        return _render(_form())
    form = _form(formdata=request.form)
    if not form.validate_on_submit():
        return _render(form, 422)
    try:
        reminders.save_reminder_settings(db.session, warranty_enabled=bool(form.warranty_enabled.data),
                                         warranty_days_before=form.warranty_days_before.data,
                                         checkups=_checkups(form), actor=acting_staff(), now=utcnow())
    except reminders.ReminderError as exc:
        db.session.rollback()
        (form[exc.field] if exc.field in form else form.submit).errors.append(str(exc.message))
        return _render(form, 422)
    db.session.commit()
    flash(_("Reminder settings saved."), "success")
    return redirect(url_for("orders.reminder_settings"))


def _render(form, code=200):
    rows = [(label, form[f"{kind}_enabled"], form[f"{kind}_months"], form[f"{kind}_coupon"])
            for kind, label in REPAIR_KINDS.items()]
    return render_template("orders/reminder_settings.html", form=form, rows=rows,
                           channels=configured_channels()), code
