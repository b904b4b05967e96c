from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from crm.auth.models import ROLE_LABELS, Role
from crm.auth.service import MIN_PASSWORD_LENGTH
from crm.forms_common import CrmForm, choices
from crm.locales import language_choices
from crm.locales import lazy_gettext as _l
from crm.money import InvalidAmount, parse_amount


def role_choices():
    return choices((role.value, label) for role, label in ROLE_LABELS.items())


def interface_language_choices():
    return [("", _l("The browser's language")), *language_choices()]


class LanguageForm(CrmForm):
    language = SelectField(_l("Interface language"), choices=interface_language_choices)
    submit = SubmitField(_l("Switch"))


class LoginForm(CrmForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("Log in"))


class StaffCreateForm(CrmForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(min=2, max=64),
                    Regexp(r"^[A-Za-z0-9_.-]+$", message=_l("Letters, digits, dot, dash and underscore only."))],
    )
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=role_choices, default=Role.TECHNICIAN.value)
    language = SelectField(_l("Interface language"), choices=interface_language_choices, default="")
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)])
    submit = SubmitField(_l("Create account"))


class CommissionField(StringField):
    """A percentage with up to two decimals ("12.5"), held in ``data`` as basis points (1250); 0 to 100."""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip().rstrip("%").strip()
        if not text:
            self.data = 0
            return
        try:
            value = parse_amount(text, "USD")  # two decimals: basis points of a percent
        except InvalidAmount:
            self.data = None
            raise ValueError(_l("Write a percentage like 10 or 12.5.")) from None
        if not 0 <= value <= 10_000:
            self.data = None
            raise ValueError(_l("A percentage is between 0 and 100."))
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else percent_text(self.data)


def percent_text(basis_points: int) -> str:
    """1250 -> "12.5", 1000 -> "10", 5 -> "0.05": integer arithmetic, no float."""
    whole, cents = divmod(basis_points, 100)
    return f"{whole}.{cents:02d}".rstrip("0").rstrip(".") if cents else str(whole)


class StaffEditForm(CrmForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=role_choices)
    language = SelectField(_l("Interface language"), choices=interface_language_choices, default="")
    active = BooleanField(_l("Account active (can log in)"))
    commission = CommissionField(_l("Commission on paid labour (%)"), default=0)
    submit = SubmitField(_l("Save"))


class PasswordResetForm(CrmForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Set password"))


class OwnPasswordForm(PasswordResetForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)])
