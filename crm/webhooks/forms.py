"""The manager's webhook forms (field validation only; the address's rules are in crm.webhooks.service)."""

from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from crm.forms_common import CrmForm, choices
from crm.locales import lazy_gettext as _l
from crm.notifications.forms import CheckboxList
from crm.webhooks.events import EVENTS
from crm.webhooks.service import URL_MAX


class EndpointForm(CrmForm):
    url = StringField(_l("Address (URL) that receives the events"),
                      validators=[InputRequired(_l("Enter the address that receives the events.")),
                                  Length(max=URL_MAX)],
                      render_kw={"placeholder": "https://example.com/crm-events", "inputmode": "url",
                                 "autocomplete": "off", "spellcheck": "false"})
    description = StringField(_l("Description (who or what receives them)"), validators=[Length(max=120)])
    events = CheckboxList(_l("Events to send"), choices=choices(EVENTS.items()),
                          validators=[InputRequired(_l("Choose at least one event."))])
    active = BooleanField(_l("On: send the events"), default=True)
    submit = SubmitField(_l("Save"))


class NewEndpointForm(EndpointForm):
    submit = SubmitField(_l("Add the endpoint"))
