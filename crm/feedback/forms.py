from wtforms import HiddenField, RadioField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from crm.feedback.models import COMMENT_MAX, NOTE_MAX, FollowUp
from crm.forms_common import CrmForm, choices
from crm.locales import lazy_gettext as _l

STAR_CHOICES = choices((str(n), str(n)) for n in range(1, 6))


class FeedbackForm(CrmForm):
    """The customer's rating on the tracking page. There is no session there: the form proves it came from the page
    with ``form_token``, an HMAC of the tracking token (crm.feedback.public_views), instead of Flask-WTF's token."""

    class Meta:
        csrf = False

    form_token = HiddenField()
    rating = RadioField(_l("Your rating"), choices=STAR_CHOICES,
                        validators=[InputRequired(_l("Choose from 1 to 5 stars."))])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=COMMENT_MAX)],
                            render_kw={"rows": 3, "maxlength": COMMENT_MAX})
    submit = SubmitField(_l("Send"))


class FollowUpForm(CrmForm):
    status = SelectField(_l("Follow-up"), validators=[DataRequired()],
                         choices=choices([(FollowUp.OPEN, _l("To follow up")), (FollowUp.DONE, _l("Done"))]))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)], render_kw={"rows": 2})
    submit = SubmitField(_l("Save"))
