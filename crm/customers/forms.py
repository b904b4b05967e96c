from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, EmailField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from crm.forms_common import CrmForm, DateInRange


class CustomerForm(CrmForm):
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=40)],
                        render_kw={"autocomplete": "off", "inputmode": "tel"})
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254), Email(check_deliverability=False)])
    birthday = DateField(_l("Birthday"), validators=[Optional(), DateInRange()])
    service_consent = BooleanField(_l("Agrees to service messages (repair status)"), default=True)
    marketing_consent = BooleanField(_l("Agrees to marketing messages (offers, greetings)"))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Save customer"))
