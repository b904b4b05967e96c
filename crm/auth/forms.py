from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from crm.auth.models import ROLE_LABELS, Role
from crm.auth.service import MIN_PASSWORD_LENGTH
from crm.forms_common import CrmForm, PercentField, choices
from crm.locales import language_choices
from crm.locales import lazy_gettext as _l


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


class StaffEditForm(CrmForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=role_choices)
    language = SelectField(_l("Interface language"), choices=interface_language_choices, default="")
    active = BooleanField(_l("Account active (can log in)"))
    commission = PercentField(_l("Commission on paid labour (%)"), default=0, empty=0,
                              example=_l("Write a percentage like 10 or 12.5."))
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
