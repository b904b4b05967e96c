"""GET /reports/loyalty: the manager's Loyalty report for a range from the query string, or one of its tables as
CSV (?format=csv&table=...)."""

from flask import current_app, render_template, request

from crm.auth.access import roles_required
from crm.auth.models import Role
from crm.extensions import db
from crm.locales import lazy_gettext as _l
from crm.reports import bp, cohorts, coupons, display, heat, loyalty, period, tiers
from crm.reports.csv_export import csv_response
from crm.shop_time import local_now, shop_tz

TABLE_TITLES = {"members": _l("Members"), "spending": _l("Members and non-members"), "points": _l("Points"),
                "satisfaction": _l("Satisfaction"), "tiers": _l("Tiers"),
                "coupons": _l("Coupons and promo codes")}


def _tables(chosen: period.Period, before: period.Period) -> dict[str, list[display.Row]]:
    days = current_app.config["REPORT_ACTIVE_DAYS"]
    now = loyalty.figures(db.session, chosen.start_utc, chosen.end_utc, active_days=days)
    then = loyalty.figures(db.session, before.start_utc, before.end_utc, active_days=days)
    tables = {name: build(now, then) for name, build in display.TABLES.items()}
    tables["tiers"] = display.tiers_table(tiers.tier_names(db.session),
                                          tiers.tier_figures(db.session, chosen.start_utc, chosen.end_utc),
                                          tiers.tier_figures(db.session, before.start_utc, before.end_utc))
    tables["coupons"] = display.coupons_table(coupons.coupon_figures(db.session, chosen.start_utc, chosen.end_utc),
                                              coupons.coupon_figures(db.session, before.start_utc, before.end_utc))
    return tables


@bp.route("/loyalty")
@roles_required(Role.MANAGER)
def loyalty_report():
    tz = shop_tz()
    chosen, error = period.from_args(request.args, local_now().date(), tz)
    before = period.previous(chosen, tz)
    tables = _tables(chosen, before)
    groups = cohorts.cohorts(db.session, chosen.first, chosen.last, local_now().date(), tz)
    retention = display.cohort_rows(groups)
    table = request.args.get("table")
    days = f"{chosen.first.isoformat()}-{chosen.last.isoformat()}"
    if request.args.get("format") == "csv" and table == "cohorts":
        return csv_response(f"loyalty-cohorts-{days}.csv", display.cohort_header(), retention)
    if request.args.get("format") == "csv" and table in tables:
        header = [str(_l("Figure")), f"{chosen.first.isoformat()}..{chosen.last.isoformat()}",
                  f"{before.first.isoformat()}..{before.last.isoformat()}", str(_l("Change"))]
        rows = ([row.label, display.show(row.kind, row.value), display.show(row.kind, row.previous),
                 display.show(row.kind, row.change)] for row in tables[table])
        return csv_response(f"loyalty-{table}-{days}.csv", header, rows)
    return render_template("reports/loyalty.html", period=chosen, previous=before, error=error, tables=tables,
                           titles=TABLE_TITLES, presets=period.PRESET_LABELS, show=display.show,
                           active_days=current_app.config["REPORT_ACTIVE_DAYS"],
                           cohort_header=display.cohort_header(), cohort_rows=retention,
                           cohort_heat=heat.cohort_heat(groups))
