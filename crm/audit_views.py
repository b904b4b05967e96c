"""GET /audit: the manager's audit log (crm.audit) with filters — who (a staff member), what (an area), when (the
shop's days, from/to) — paginated, and the filtered rows as CSV (?format=csv). A filter value that is garbage is
dropped with a message next to the filters; the page never fails on one."""

from datetime import date

from flask import Blueprint, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from crm import audit
from crm.auth.access import roles_required
from crm.auth.models import Role, StaffUser
from crm.auth.service import list_staff
from crm.extensions import db
from crm.numbers import whole_number
from crm.pagination import date_arg, page_arg
from crm.reports.csv_export import csv_response
from crm.shop_time import format_local

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _day(name: str, problems: list[str]) -> date | None:
    raw = (request.args.get(name) or "").strip()
    day = date_arg(name) if raw else None
    if raw and day is None:
        problems.append(_("“%(value)s” is not a date; the filter was ignored.", value=raw[:40]))
    return day


def _filters(staff: list[StaffUser]) -> tuple[audit.AuditFilters, list[str]]:
    """The filters from the query string, and a message for each value that could not be used."""
    problems: list[str] = []
    raw_actor = (request.args.get("actor") or "").strip()
    actor_id = whole_number(raw_actor) if raw_actor else None
    if raw_actor and actor_id not in {user.id for user in staff}:
        problems.append(_("No such staff member; showing everyone."))
        actor_id = None
    area = (request.args.get("area") or "").strip()
    if area and area not in audit.AREAS:
        problems.append(_("No such area; showing every area."))
        area = ""
    date_from, date_to = _day("from", problems), _day("to", problems)
    if date_from and date_to and date_from > date_to:
        problems.append(_("The first day is after the last day; the dates were swapped."))
        date_from, date_to = date_to, date_from
    return audit.AuditFilters(actor_id=actor_id, area=area, date_from=date_from, date_to=date_to), problems


def _csv(filters: audit.AuditFilters):
    language = str(get_locale() or "en")
    header = [_("When"), _("Who"), _("Area"), _("Action"), _("What"), _("Setting"), _("Was"), _("Now")]
    rows = ([format_local(e.created_at, "datetime", language), e.actor.full_name if e.actor else "",
             str(audit.AREAS.get(e.area, e.area)), e.action, e.subject, e.field, e.old_value, e.new_value]
            for e in audit.audit_rows(db.session, filters))
    return csv_response("audit-log.csv", header, rows)


@bp.route("")
@roles_required(Role.MANAGER)
def audit_log():
    staff = list_staff(db.session)
    filters, problems = _filters(staff)
    if request.args.get("format") == "csv":
        return _csv(filters)
    page = page_arg()
    entries, has_next = audit.audit_page(db.session, filters, page=page, per_page=current_app.config["PAGE_SIZE"])
    return render_template("audit/log.html", entries=entries, page=page, has_next=has_next, filters=filters,
                           problems=problems, staff=staff, areas=audit.AREAS)
