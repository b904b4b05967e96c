"""The manager's "API tokens" page: make a token (shown once), see when each was last used, revoke one."""

from datetime import datetime, time

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from crm.api import tokens, widget
from crm.api.models import TOKEN_ROLE_LABELS, ApiToken
from crm.audit import record_change
from crm.auth.access import acting_staff, roles_required
from crm.auth.models import Role
from crm.database import utcnow
from crm.errors import RuleError
from crm.extensions import db
from crm.forms_common import CrmForm, choices
from crm.links import public_url
from crm.locales import lazy_gettext as _l
from crm.shop_time import shop_tz

bp = Blueprint("api_tokens", __name__, url_prefix="/api-tokens")


class TokenForm(CrmForm):
    name = StringField(_l("Name (who or what uses it)"), validators=[InputRequired(_l("Give the token a name.")),
                                                                    Length(max=80)])
    role = SelectField(_l("Role"), choices=choices((role.value, label) for role, label in TOKEN_ROLE_LABELS.items()))
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Create the token"))


class RevokeForm(CrmForm):
    submit = SubmitField(_l("Revoke"))


class WidgetForm(CrmForm):
    widget_origins = TextAreaField(_l("Websites that may show the repair-status widget (one per line)"),
                                   validators=[Length(max=2000)])
    submit = SubmitField(_l("Save the websites"))


def _page(form: TokenForm, *, new_token: str | None = None, code: int = 200, widget_form: WidgetForm | None = None):
    if widget_form is None:
        widget_form = WidgetForm(formdata=None, widget_origins=widget.settings(db.session).widget_origins)
    return render_template("api/tokens.html", form=form, revoke_form=RevokeForm(), new_token=new_token,
                           tokens=tokens.all_tokens(db.session), labels=TOKEN_ROLE_LABELS, now=utcnow(),
                           widget_form=widget_form, crm_url=public_url("").rstrip("/")), code


@bp.route("", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def index():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, code=422 if form.errors else 200)
    expires = (datetime.combine(form.expires_on.data, time.min, tzinfo=shop_tz())
               if form.expires_on.data else None)
    try:
        row, secret = tokens.create_token(db.session, name=form.name.data, role=form.role.data, expires_at=expires,
                                          actor=acting_staff(), now=utcnow())
    except tokens.TokenError as exc:
        db.session.rollback()
        getattr(form, exc.field or "name").errors.append(str(exc.message))
        return _page(form, code=422)
    db.session.commit()
    flash(_("Token %(name)s created. Copy it now: it is not shown again.", name=row.name), "success")
    return _page(TokenForm(formdata=None), new_token=secret)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@roles_required(Role.MANAGER)
def revoke(token_id: int):
    row = db.get_or_404(ApiToken, token_id)
    if RevokeForm().validate_on_submit() and tokens.revoke(db.session, row, actor=acting_staff(), now=utcnow()):
        db.session.commit()
        flash(_("Token %(name)s revoked: programs using it are refused from now on.", name=row.name), "success")
    return redirect(url_for("api_tokens.index"))


@bp.route("/widget", methods=["POST"])
@roles_required(Role.MANAGER)
def widget_websites():
    form = WidgetForm()
    if form.validate_on_submit():
        try:
            origins = widget.save_origins(db.session, form.widget_origins.data or "")
        except RuleError as exc:
            db.session.rollback()
            form.widget_origins.errors.append(str(exc.message))
        else:
            record_change(db.session, "api_settings", "widget websites", "", ", ".join(origins), acting_staff(),
                          utcnow())
            db.session.commit()
            flash(_("Websites for the widget saved."), "success")
            return redirect(url_for("api_tokens.index") + "#widget")
    return _page(TokenForm(formdata=None), code=422, widget_form=form)
