"""Forms of the manager's loyalty settings. Field validation only; the rules live in program.py and
coupon_admin.py. Percentages are typed like "5" or "2.5" and held as basis points (never a float)."""

from datetime import date

from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from crm.forms_common import CrmForm, DateInRange, IntegerField, MoneyField, PercentField, choices
from crm.locales import lazy_gettext as _l
from crm.loyalty.codes import code_problem


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


POINTS = [InputRequired(), NumberRange(min=0, max=1_000_000)]


class ProgramForm(CrmForm):
    enabled = BooleanField(_l("The loyalty program is on"))
    enrolment = SelectField(_l("Enrolment"), choices=choices([
        ("automatic", _l("Automatic: customers who agree to marketing messages join at their first paid checkout")),
        ("opt_in", _l("Opt-in: only when the desk enrols them"))]))
    point_value = MoneyField(_l("Value of one point"), validators=[InputRequired()])
    redeem_cap = PercentField(_l("Points may pay at most this share of the bill (%)"), validators=[InputRequired()])
    min_balance_to_redeem = IntegerField(_l("Minimum balance before points can be spent"), validators=POINTS)
    redeem_categories = CheckboxList(_l("Points may pay for"), choices=[])
    expiry_months = IntegerField(_l("Points expire after (months, 0 = never)"),
                                 validators=[InputRequired(), NumberRange(min=0, max=120)])
    expiry_warning_days = IntegerField(_l("Warn customers this many days before points expire"),
                                       validators=[InputRequired(), NumberRange(min=0, max=365)])
    welcome_bonus = IntegerField(_l("Welcome bonus (points)"), validators=POINTS)
    birthday_bonus = IntegerField(_l("Birthday bonus (points)"), validators=POINTS)
    anniversary_bonus = IntegerField(_l("First-visit anniversary bonus (points)"), validators=POINTS)
    referral_bonus = IntegerField(_l("Referral bonus to the customer who recommended (points)"), validators=POINTS)
    referee_bonus = IntegerField(_l("Referral bonus to the new customer (points)"), validators=POINTS)
    tier_window_months = IntegerField(_l("Tiers count spend and repairs over the last (months)"),
                                      validators=[InputRequired(), NumberRange(min=1, max=120)])
    repair_coupon_template_id = SelectField(_l("Personal coupon after every paid repair"), choices=[])
    submit = SubmitField(_l("Save settings"))


def rate_field_name(code: str) -> str:
    return "rate_" + "".join(ch if ch.isalnum() else "_" for ch in code)


def earn_rates_form_class(categories: list[tuple[str, str]]) -> type[CrmForm]:
    """One percentage field per line category (repair labour, repair parts, each item category)."""
    fields = {rate_field_name(code): PercentField(_l("Points earned on %(category)s (%% of the money paid; "
                                                     "empty = none)", category=name), validators=[Optional()])
              for code, name in categories}
    fields["submit"] = SubmitField(_l("Save earn rates"))
    return type("EarnRatesForm", (CrmForm,), fields)


class TierForm(CrmForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=40)])
    rank = IntegerField(_l("Rank (1 = entry tier, higher = better)"),
                        validators=[InputRequired(), NumberRange(min=1, max=100)])
    min_spend = MoneyField(_l("Qualifies with spend over the window of at least"), validators=[Optional()])
    min_repairs = IntegerField(_l("Or with at least this many paid repairs"),
                               validators=[Optional(), NumberRange(min=0, max=10_000)])
    earn_multiplier = IntegerField(_l("Points multiplier (%; 100 = normal, 150 = one and a half)"),
                                   validators=[InputRequired(), NumberRange(min=0, max=1000)])
    accessory_discount = PercentField(_l("Standing discount on accessories (%)"), validators=[InputRequired()])
    free_diagnostics = BooleanField(_l("Free diagnostics"))
    queue_priority = BooleanField(_l("Priority in the technician's queue"))
    submit = SubmitField(_l("Save tier"))


class CouponTemplateForm(CrmForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    kind = SelectField(_l("Kind"), choices=choices([("percent", _l("Percentage off")),
                                                    ("fixed", _l("Fixed amount off"))]))
    percent = PercentField(_l("Percentage off"), validators=[Optional()])
    amount = MoneyField(_l("Amount off"), validators=[Optional()])
    categories = CheckboxList(_l("Applies to"), choices=[])
    min_bill = MoneyField(_l("Minimum bill"), validators=[Optional()])
    validity_days = IntegerField(_l("Valid for (days after it is issued)"),
                                 validators=[InputRequired(), NumberRange(min=1, max=3650)])
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save coupon template"))


def valid_code(form, field):
    """The rule the desk redeems codes by (crm.loyalty.codes), at the field."""
    if (problem := code_problem(field.data)) is not None:
        raise ValidationError(problem)


# A promo code's dates become UTC instants: 0001-01-01 or 9999-12-31 would fall outside what a datetime holds.
PROMO_DATE = [InputRequired(), DateInRange(earliest=date(2000, 1, 1), future_days=10 * 366,
                                           message=_l("Choose a date from 2000 to ten years from today."))]


class PromoCodeForm(CrmForm):
    template_id = SelectField(_l("Coupon template"), choices=[], validators=[DataRequired()])
    code = StringField(_l("Promo code"), validators=[DataRequired(), valid_code])
    usage_limit = IntegerField(_l("How many times it can be used"),
                               validators=[InputRequired(), NumberRange(min=1, max=1_000_000)])
    valid_from = DateField(_l("Valid from"), validators=PROMO_DATE)
    valid_until = DateField(_l("Valid until (including this day)"), validators=PROMO_DATE)
    submit = SubmitField(_l("Create promo code"))
