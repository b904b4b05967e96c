"""The manager's notification forms: settings and message templates (field validation only; a template
is also rendered on sample data in the sandbox before it is saved)."""

from wtforms import SelectMultipleField, StringField, SubmitField, TextAreaField, widgets
from wtforms.validators import InputRequired, Length, NumberRange, Regexp

from crm.forms_common import CrmForm, IntegerField
from crm.locales import lazy_gettext as _l

TIME = Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", message=_l("Write a time like 21:00."))


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class NotificationSettingsForm(CrmForm):
    notify_statuses = CheckboxList(_l("Repair statuses that message the customer"), choices=[])
    quiet_start = StringField(_l("Quiet hours start (shop time)"), validators=[InputRequired(), TIME],
                              render_kw={"placeholder": "21:00", "inputmode": "numeric"})
    quiet_end = StringField(_l("Quiet hours end (shop time)"), validators=[InputRequired(), TIME],
                            render_kw={"placeholder": "09:00", "inputmode": "numeric"})
    max_attempts = IntegerField(_l("Attempts before a message is marked failed"),
                                validators=[InputRequired(), NumberRange(min=1, max=20)])
    catch_up_days = IntegerField(_l("Days a missed birthday or anniversary is still honoured"),
                                 validators=[InputRequired(), NumberRange(min=0, max=60)])
    submit = SubmitField(_l("Save settings"))


class TemplateForm(CrmForm):
    subject = StringField(_l("Subject"), validators=[Length(max=300)])
    body = TextAreaField(_l("Message"), validators=[InputRequired(), Length(max=5000)], render_kw={"rows": 10})
    preview = SubmitField(_l("Preview"))
    submit = SubmitField(_l("Save template"))
