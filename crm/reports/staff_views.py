"""GET /reports/staff (the manager: every technician and front-desk member) and GET /reports/my-results (a
technician: their own figures only), for a range from the query string; each table also as CSV
(?format=csv&table=technicians|desk)."""

from flask import render_template, request
from flask_login import current_user

from crm.auth.access import roles_required
from crm.auth.models import Role
from crm.extensions import db
from crm.locales import lazy_gettext as _l
from crm.reports import bp, period, staff, staff_display
from crm.reports.csv_export import csv_response
from crm.shop_time import local_now, shop_tz

TITLES = {"technicians": _l("Technicians"), "desk": _l("Front desk")}


def _range():
    tz = shop_tz()
    chosen, error = period.from_args(request.args, local_now().date(), tz)
    return tz, chosen, error


def _csv(name: str, chosen: period.Period, header, rows):
    return csv_response(f"{name}-{chosen.first.isoformat()}-{chosen.last.isoformat()}.csv", header, rows)


@bp.route("/staff")
@roles_required(Role.MANAGER)
def staff_report():
    tz, chosen, error = _range()
    tables = {
        "technicians": (staff_display.technician_header(), staff_display.technician_rows(
            staff.technician_figures(db.session, chosen.start_utc, chosen.end_utc, tz))),
        "desk": (staff_display.desk_header(), staff_display.desk_rows(
            staff.desk_figures(db.session, chosen.start_utc, chosen.end_utc))),
    }
    table = request.args.get("table")
    if request.args.get("format") == "csv" and table in tables:
        return _csv(f"staff-{table}", chosen, *tables[table])
    return render_template("reports/staff.html", period=chosen, error=error, tables=tables, titles=TITLES,
                           presets=period.PRESET_LABELS, endpoint="reports.staff_report")


@bp.route("/my-results")
@roles_required(Role.TECHNICIAN)
def my_results():
    tz, chosen, error = _range()
    figures = staff.technician_figures(db.session, chosen.start_utc, chosen.end_utc, tz, only=current_user.id)
    header, rows = staff_display.technician_header(), staff_display.technician_rows(figures)
    if request.args.get("format") == "csv" and request.args.get("table") == "technicians":
        return _csv("my-results", chosen, header, rows)
    return render_template("reports/my_results.html", period=chosen, error=error, header=header,
                           row=rows[0] if rows else None, presets=period.PRESET_LABELS,
                           endpoint="reports.my_results")
