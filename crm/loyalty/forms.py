"""Forms of the loyalty section on the customer's page. Field validation only; rules live in accounts.py."""

from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from crm.forms_common import CrmForm, IntegerField
from crm.locales import lazy_gettext as _l
from crm.loyalty.ledger import MAX_POINTS


class EnrolForm(CrmForm):
    submit = SubmitField(_l("Enrol in the loyalty program"))


class AdjustPointsForm(CrmForm):
    key = HiddenField()
    points = IntegerField(_l("Points to add (negative to take away)"),
                          validators=[InputRequired(), NumberRange(min=-MAX_POINTS, max=MAX_POINTS)],
                          render_kw={"inputmode": "numeric", "autocomplete": "off"})
    reason = StringField(_l("Reason for the adjustment"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Adjust points"))


class ReferrerForm(CrmForm):
    referred_by = StringField(_l("Referred by (referral code or phone)"), validators=[DataRequired(), Length(max=40)],
                              render_kw={"autocomplete": "off"})
    submit = SubmitField(_l("Record the referrer"))
