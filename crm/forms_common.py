"""Validators and fields shared by several modules' forms."""

from datetime import date

import wtforms
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import SelectChoice, StringField, ValidationError

from crm.form_rendering import WTFORMS_MESSAGES
from crm.locales import lazy_gettext as _l
from crm.money import InvalidAmount, format_amount_plain, parse_amount
from crm.numbers import integer
from crm.shop_time import local_now
from crm.text import CONTROL_CHARACTERS


class DateInRange:
    """Reject dates outside [earliest, today + future_days] with a message the user understands."""

    def __init__(self, earliest: date = date(1900, 1, 1), future_days: int | None = 0, message=None):
        self.earliest = earliest
        self.future_days = future_days
        self.message = message

    def __call__(self, form, field):
        if field.data is None:
            return
        if field.data < self.earliest:
            raise ValidationError(self.message or _l("This date is too far in the past."))
        # The shop's today, not the server's: after 22:00 UTC a shop in Kyiv is already on tomorrow.
        if self.future_days is not None and (field.data - local_now().date()).days > self.future_days:
            raise ValidationError(self.message or _l("This date is in the future."))


class MoneyField(StringField):
    """An amount typed in major units ("1250.50"), held as integer minor units in ``data``."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        if not self.raw_text.strip():
            self.data = None
            return
        try:
            self.data = parse_amount(self.raw_text, current_app.config["CURRENCY"])
        except InvalidAmount as exc:
            self.data = None
            raise ValueError(str(exc.message)) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_amount_plain(self.data, current_app.config["CURRENCY"])


def percent_text(basis_points: int) -> str:
    """1250 -> "12.5", 1000 -> "10", 5 -> "0.05": integer arithmetic, no float."""
    whole, cents = divmod(basis_points, 100)
    return f"{whole}.{cents:02d}".rstrip("0").rstrip(".") if cents else str(whole)


class PercentField(StringField):
    """A percentage typed with up to two decimals ("2.5", "12.5 %"), held in ``data`` as basis points (250), from
    0 to 100. ``empty``: ``data`` when nothing is typed (None, or 0 where a blank means none); ``example``: the
    message for what is not a percentage."""

    def __init__(self, label=None, validators=None, *, empty: int | None = None,
                 example=_l("Write a percentage like 5 or 2.5."), **kwargs):
        super().__init__(label, validators, **kwargs)
        self.empty_value, self.example_message = empty, example

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip().rstrip("%").strip()
        if not text:
            self.data = self.empty_value
            return
        try:
            value = parse_amount(text, "USD")  # two decimals: basis points of a percent
        except InvalidAmount:
            self.data = None
            raise ValueError(self.example_message) from None
        if not 0 <= value <= 10_000:
            self.data = None
            raise ValueError(_l("A percentage is between 0 and 100."))
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else percent_text(self.data)


class IntegerField(wtforms.IntegerField):
    """WTForms' IntegerField reading numbers by crm.numbers' one rule: ASCII digits with an optional sign.
    (int() would take "٣" as 3 and "1_000" as 1000.) Every form imports IntegerField from here."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = integer(valuelist[0])
        if self.data is None:
            raise ValueError(self.invalid_value_message or self.gettext("Not a valid integer value."))


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class CrmForm(FlaskForm):
    """The base of every form: text with control characters is refused at its field."""

    class Meta:
        def get_translations(self, form):
            return WTFORMS_MESSAGES  # WTForms' messages, its catalogue loaded once per language

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        for field in self:
            if any(isinstance(raw, str) and CONTROL_CHARACTERS.search(raw) for raw in field.raw_data or ()):
                field.errors = [*field.errors, _l("Remove the invisible control characters from this field.")]
                valid = False
        return valid


class ConfirmForm(CrmForm):
    """A form with nothing but its CSRF token, for POST buttons that do one thing (remove a line, retry a
    message, reset a template)."""
