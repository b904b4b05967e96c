"""A report's date range: a preset or custom days, in the shop's time zone, read from the query string.

Pure functions: the caller passes today's date and the zone; nothing here reads the clock or the request."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from crm.locales import lazy_gettext as _l
from crm.shop_time import day_bounds_utc

PRESETS = ("today", "this_week", "this_month", "last_month", "last_30", "last_90", "this_year", "last_year",
           "custom")
DEFAULT = "this_month"
MAX_DAYS = 3653  # ten years, leap days included
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)  # the previous period and the UTC bounds stay in range
PRESET_LABELS = {"today": _l("Today"), "this_week": _l("This week"), "this_month": _l("This month"),
                 "last_month": _l("Last month"), "last_30": _l("Last 30 days"), "last_90": _l("Last 90 days"),
                 "this_year": _l("This year"), "last_year": _l("Last year"), "custom": _l("Custom dates")}


@dataclass(frozen=True)
class Period:
    preset: str
    first: date  # the first day, inclusive
    last: date  # the last day, inclusive
    start_utc: datetime  # [start_utc, end_utc): local midnight before ``first`` to local midnight after ``last``
    end_utc: datetime

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def make(preset: str, first: date, last: date, tz: ZoneInfo) -> Period:
    return Period(preset, first, last, day_bounds_utc(first, tz)[0], day_bounds_utc(last, tz)[1])


def _month_start(day: date) -> date:
    return day.replace(day=1)


def preset_days(preset: str, today: date) -> tuple[date, date]:
    """The first and last day of a preset, ``today`` being the shop's today."""
    last_month = _month_start(today) - timedelta(days=1)
    days = {
        "today": (today, today),
        "this_week": (today - timedelta(days=today.weekday()), today),  # Monday to today
        "this_month": (_month_start(today), today),
        "last_month": (_month_start(last_month), last_month),
        "last_30": (today - timedelta(days=29), today),
        "last_90": (today - timedelta(days=89), today),
        "this_year": (date(today.year, 1, 1), today),
        "last_year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
    }
    return days[preset]


def _iso_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip()) if len((text or "").strip()) == 10 else None
    except ValueError:
        return None


def _custom(start: str | None, end: str | None) -> tuple[tuple[date, date] | None, str | None]:
    first, last = _iso_day(start), _iso_day(end)
    if first is None or last is None:
        return None, str(_l("Enter the first and last day as dates (YYYY-MM-DD)."))
    if not (EARLIEST <= first <= LATEST and EARLIEST <= last <= LATEST):
        return None, str(_l("Enter days between the years 1900 and 2999."))
    if last < first:
        return None, str(_l("The last day is before the first day."))
    if (last - first).days + 1 > MAX_DAYS:
        return None, str(_l("A report covers at most ten years."))
    return (first, last), None


def from_args(args, today: date, tz: ZoneInfo) -> tuple[Period, str | None]:
    """The range asked for by ``?period=...&start=...&end=...``, and a message when it could not be used (then
    the default preset is used instead)."""
    preset = args.get("period") or DEFAULT
    if preset not in PRESETS:
        return make(DEFAULT, *preset_days(DEFAULT, today), tz), str(_l("Choose a period from the list."))
    if preset != "custom":
        return make(preset, *preset_days(preset, today), tz), None
    days, error = _custom(args.get("start"), args.get("end"))
    if days is None:
        return make(DEFAULT, *preset_days(DEFAULT, today), tz), error
    return make("custom", *days, tz), None


def previous(period: Period, tz: ZoneInfo) -> Period:
    """The same number of days just before: the comparison period."""
    last = period.first - timedelta(days=1)
    return make(period.preset, last - timedelta(days=period.days - 1), last, tz)
