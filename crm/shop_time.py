"""The shop's clock: timestamps are stored in UTC; days (birthdays, anniversaries, quiet hours) are the
shop's days, in SHOP_TIMEZONE."""

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import DateTimePattern, format_date, format_datetime, parse_pattern
from flask import current_app, has_app_context
from flask_babel import get_locale

from crm.locales import LazyText, lazy_text


def shop_tz() -> ZoneInfo:
    name = current_app.config.get("SHOP_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name) if name else ZoneInfo("UTC")


def local_date(moment: datetime) -> date:
    return moment.astimezone(shop_tz()).date()


def mmdd(day: date) -> int:
    """Month and day as one indexed number: 14 February is 214."""
    return day.month * 100 + day.day


def utc_from_local(day: date, minute: int = 0) -> datetime:
    """The UTC instant of ``minute`` past midnight on ``day`` in the shop's time zone."""
    local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=shop_tz())
    return local.astimezone(UTC)


def local_now() -> datetime:
    """The shop's wall clock, aware."""
    return datetime.now(shop_tz())


def day_bounds_utc(day: date, tz: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) of the shop's ``day`` as UTC instants: 23 or 25 hours on the
    days the clocks change. ``tz`` defaults to the shop's."""
    tz = tz or shop_tz()
    start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)


# English is the shops' second language, not an American one: its dates stay unambiguous (ISO). The others write
# a day as their locale does (03.12.2026, 14:05), with the full year.
ISO = {"date": "yyyy-MM-dd", "time": "HH:mm", "datetime": "yyyy-MM-dd HH:mm"}


@lru_cache(maxsize=64)  # a list page formats dozens of moments: read the locale's patterns once
def local_pattern(kind: str, language: str) -> str:
    """The Babel pattern of a ``date``, ``time`` or ``datetime`` in ``language``."""
    locale = Locale.parse(language)
    if locale.language == "en":
        return ISO[kind]
    day = locale.date_formats["short"].pattern
    day = day if "yyyy" in day else day.replace("yy", "y").replace("y", "yyyy")
    clock = locale.time_formats["short"].pattern
    return {"date": day, "time": clock, "datetime": f"{day} {clock}"}[kind]


# Babel fields that strftime writes the same way in every locale (numbers only, zero-padded).
_STRFTIME_FIELDS = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
_NUMERIC_PATTERN = re.compile(r"(yyyy|MM|dd|HH|mm|ss|[ .,:/-])+")


@lru_cache(maxsize=64)
def _compiled(kind: str, language: str) -> tuple[str | None, DateTimePattern, Locale]:
    """The pattern as a strftime format when it is all numbers and separators (every pattern the shop's
    languages use: "dd.MM.yyyy HH:mm"), which writes it in a fiftieth of Babel's time; Babel's parsed pattern
    for any other."""
    pattern = local_pattern(kind, language)
    numeric = None
    if _NUMERIC_PATTERN.fullmatch(pattern):
        numeric = re.sub(r"yyyy|MM|dd|HH|mm|ss", lambda m: _STRFTIME_FIELDS[m.group(0)], pattern)
    return numeric, parse_pattern(pattern), Locale.parse(language)


def format_local(moment: datetime, kind: str, language: str) -> str:
    """A stored (UTC) moment as the shop's clock shows it, written the way ``language`` writes it (on every row
    of a list: the pattern is prepared once per language)."""
    if not isinstance(moment, datetime):
        return format_datetime(moment, local_pattern(kind, language), tzinfo=shop_tz(), locale=language)
    numeric, pattern, locale = _compiled(kind, language)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(shop_tz())
    if numeric is not None and local.year >= 1000:  # strftime does not pad years below 1000 to four digits
        return local.strftime(numeric)
    return pattern.apply(local, locale)


def format_day(day: date, language: str) -> str:
    return format_date(day, local_pattern("date", language), locale=language)


def written_day(day: date) -> LazyText:
    """A day for a message variable: written the way the message's own language writes it (the outbox renders
    each message inside its customer's language)."""
    return lazy_text(lambda: format_day(day, str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])))
