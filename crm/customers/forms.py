from flask import current_app
from wtforms import BooleanField, DateField, EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from crm.forms_common import CrmForm, DateInRange, choices
from crm.locales import lazy_gettext as _l


class CustomerForm(CrmForm):
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=40)],
                        render_kw={"autocomplete": "off", "inputmode": "tel"})
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254), Email(check_deliverability=False)])
    birthday = DateField(_l("Birthday"), validators=[Optional(), DateInRange()])
    service_consent = BooleanField(_l("Agrees to service messages (repair status)"), default=True)
    marketing_consent = BooleanField(_l("Agrees to marketing messages (offers, greetings)"))
    preferred_channel = SelectField(_l("Send messages by"), default="auto", choices=choices([
        ("auto", _l("Any channel the customer has (Telegram, e-mail, SMS)")), ("email", _l("E-mail first")),
        ("sms", _l("SMS first")), ("telegram", _l("Telegram first"))]))
    language = SelectField(_l("Language of messages"), choices=[])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Save customer"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = choices([("", _l("The shop's language")),
                                         *[(code, code) for code in current_app.config["MESSAGE_LANGUAGES"]]])
        if self.language.data is None:
            self.language.data = ""


class UnsubscribeForm(CrmForm):
    """The one button of the public unsubscribe page (its CSRF token proves a person pressed it)."""

    submit = SubmitField(_l("Unsubscribe from offers and greetings"))


class TelegramLinkForm(CrmForm):
    """The desk's Telegram buttons on the customer page (a new link, unlink): only the CSRF token."""
