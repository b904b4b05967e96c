"""GET /reports: the manager's dashboard (their landing page) for a range from the query string: headline
figures with the previous period, the program's cost and ROI estimate, and charts drawn by static/js/charts.js
from JSON the page embeds, each with the same figures as a table; any table as CSV (?format=csv&table=...)."""

from babel.numbers import get_currency_precision
from flask import current_app, render_template, request

from crm.auth.access import roles_required
from crm.auth.models import Role
from crm.extensions import db
from crm.locales import lazy_gettext as _l
from crm.reports import bp, display, headline, loyalty, period, roi, series, tiers
from crm.reports.csv_export import csv_response
from crm.shop_time import local_now, shop_tz

UNIT_LABELS = {"day": _l("Day"), "week": _l("Week starting"), "month": _l("Month")}


def _side(chosen: period.Period):
    """The range's (figures, paid repairs, ROI estimate)."""
    figures = loyalty.figures(db.session, chosen.start_utc, chosen.end_utc,
                              active_days=current_app.config["REPORT_ACTIVE_DAYS"])
    cost = roi.program_cost(db.session, chosen.start_utc, chosen.end_utc, point_value_minor=figures.point_value_minor)
    return figures, headline.paid_repairs(db.session, chosen.start_utc, chosen.end_utc), roi.estimate(figures, cost)


def _chart(kind: str, title, labels: list[str], datasets: list[tuple], money: bool = False) -> dict:
    return {"type": kind, "title": str(title), "labels": labels, "money": money,
            "datasets": [{"label": str(label), "data": data} for label, data in datasets]}


def _table(first_header, labels: list[str], datasets: list[tuple], kind: str) -> dict:
    return {"header": [str(first_header), *[str(label) for label, _ in datasets]],
            "rows": [[label, *[display.show(kind, data[i]) for _, data in datasets]] for i, label in enumerate(labels)]}


def charts(s: series.Series, tier_names: list[tuple[int, str]], tier_members: dict) -> dict:
    """Each chart's data for charts.js and its table for the page (and the CSV), keyed by the chart's id."""
    unit = UNIT_LABELS[s.unit]
    revenue = [(_l("Members"), s.revenue_members), (_l("Non-members"), s.revenue_others)]
    points = [(_l("Issued"), s.issued), (_l("Redeemed"), s.redeemed), (_l("Expired"), s.expired)]
    joined = [(_l("New members"), s.new_members)]
    names = [name for _, name in tier_names] + ([str(_l("In no tier"))] if tier_members.get(None) else [])
    counts = [tier_members.get(tier_id, 0) for tier_id, _ in tier_names] + (
        [tier_members[None]] if tier_members.get(None) else [])
    tiered = [(_l("Members"), counts)]
    return {
        "revenue": (_chart("bar", _l("Revenue (net of refunds), members and non-members"), s.labels, revenue, True),
                    _table(unit, s.labels, revenue, "money")),
        "points": (_chart("line", _l("Points issued, redeemed and expired"), s.labels, points),
                   _table(unit, s.labels, points, "count")),
        "tiers": (_chart("doughnut", _l("Members per tier at the end"), names, tiered),
                  _table(_l("Tier"), names, tiered, "count")),
        "new_members": (_chart("bar", _l("New members"), s.labels, joined), _table(unit, s.labels, joined, "count")),
    }


def _csv(chosen: period.Period, before: period.Period, name: str, tables: dict, drawn: dict):
    days = f"{chosen.first.isoformat()}-{chosen.last.isoformat()}"
    if name in drawn:
        table = drawn[name][1]
        return csv_response(f"dashboard-{name}-{days}.csv", table["header"], table["rows"])
    header = [str(_l("Figure")), f"{chosen.first.isoformat()}..{chosen.last.isoformat()}",
              f"{before.first.isoformat()}..{before.last.isoformat()}", str(_l("Change"))]
    rows = ([row.label, display.show(row.kind, row.value), display.show(row.kind, row.previous),
             display.show(row.kind, row.change)] for row in tables[name])
    return csv_response(f"dashboard-{name}-{days}.csv", header, rows)


@bp.route("")
@roles_required(Role.MANAGER)
def dashboard():
    tz = shop_tz()
    chosen, error = period.from_args(request.args, local_now().date(), tz)
    before = period.previous(chosen, tz)
    now, then = _side(chosen), _side(before)
    tables = {"headline": headline.headline_rows(now, then), "cost": headline.cost_rows(now[2], then[2])}
    drawn = charts(series.series(db.session, chosen.first, chosen.last, tz), tiers.tier_names(db.session),
                   tiers.tier_figures(db.session, chosen.start_utc, chosen.end_utc).members)
    name = request.args.get("table")
    if request.args.get("format") == "csv" and (name in tables or name in drawn):
        return _csv(chosen, before, name, tables, drawn)
    scale = 10 ** get_currency_precision(current_app.config["CURRENCY"])
    return render_template("reports/dashboard.html", period=chosen, previous=before, error=error, tables=tables,
                           presets=period.PRESET_LABELS, show=display.show, direction=headline.direction,
                           charts=drawn, chart_data={key: chart for key, (chart, _) in drawn.items()},
                           money_scale=scale, active_days=current_app.config["REPORT_ACTIVE_DAYS"],
                           point_value=now[0].point_value_minor, ratings=now[0].ratings)
