"""The end-of-day report page: takings per payment method and per staff member, and the day's refunds."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from flask_babel import gettext as _

from crm.auth.access import roles_required
from crm.auth.models import Role
from crm.extensions import db
from crm.orders.views import _date_arg
from crm.sales import bp
from crm.sales import end_of_day as reports


@bp.route("/end-of-day")
@roles_required(Role.FRONT_DESK)
def end_of_day():
    tz = ZoneInfo(current_app.config["SHOP_TIMEZONE"])
    now = datetime.now(tz)
    today = now.date()
    day = _date_arg("day")
    notice = None
    if day is None:
        if request.args.get("day"):
            # A typed or edited URL with a date that is not one (or beyond what the calendar can bound).
            notice = _("That is not a day the report can show; showing today instead.")
        day = today
    report = reports.end_of_day(db.session, day, tz, methods=current_app.config["PAYMENT_METHODS"])
    return render_template("sales/end_of_day.html", report=report, today=today, printed_at=now, notice=notice,
                           previous_day=day - timedelta(days=1), next_day=day + timedelta(days=1))
