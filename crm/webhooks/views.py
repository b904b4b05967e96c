"""The manager's "Webhooks" page: the endpoints (add, change, switch off, delete, a new secret shown once) and each
endpoint's recent deliveries with "Try again" for a failed one."""

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from crm.auth.access import acting_staff, roles_required
from crm.auth.models import Role
from crm.extensions import db
from crm.forms_common import ConfirmForm
from crm.locales import lazy_gettext as _l
from crm.webhooks import bp, service
from crm.webhooks.delivery import ENDPOINT_GONE, ENDPOINT_OFF
from crm.webhooks.events import EVENTS
from crm.webhooks.forms import EndpointForm, NewEndpointForm
from crm.webhooks.models import WebhookEndpoint

# The dispatcher's own reasons, stored in English and shown translated (a receiver's answer is shown as it came).
REASONS = {ENDPOINT_GONE: _l("The endpoint was deleted."), ENDPOINT_OFF: _l("The endpoint is switched off.")}


@bp.app_template_global()
def webhook_reason(text: str | None) -> str:
    return str(REASONS.get(text or "", text or ""))


def _allow_http_loopback() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_HTTP_LOOPBACK"))


def _data(form: EndpointForm) -> service.EndpointData:
    return service.EndpointData(url=form.url.data or "", events=list(form.events.data or []),
                                description=form.description.data or "", active=bool(form.active.data))


def _field_error(form: EndpointForm, error: service.WebhookError) -> None:
    getattr(form, error.field or "url").errors.append(str(error.message))


def _list_page(form: EndpointForm, *, code: int = 200, new_secret: str | None = None, new_id: int | None = None):
    return render_template("webhooks/index.html", form=form, endpoints=service.endpoints(db.session), events=EVENTS,
                           failed=service.failed_counts(db.session),
                           new_secret=new_secret, new_id=new_id, allow_http=_allow_http_loopback()), code


@bp.route("", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def index():
    form = NewEndpointForm()
    if not form.validate_on_submit():
        return _list_page(form, code=422 if form.errors else 200)
    try:
        row, secret = service.create_endpoint(db.session, _data(form), actor=acting_staff(),
                                              allow_http_loopback=_allow_http_loopback())
    except service.WebhookError as error:
        db.session.rollback()
        _field_error(form, error)
        return _list_page(form, code=422)
    db.session.commit()
    flash(_("Endpoint added. Copy its secret now: it is not shown again."), "success")
    return _list_page(NewEndpointForm(formdata=None), new_secret=secret, new_id=row.id)


def _endpoint_page(row: WebhookEndpoint, form: EndpointForm, *, code: int = 200, new_secret: str | None = None):
    return render_template("webhooks/endpoint.html", endpoint=row, form=form, confirm=ConfirmForm(), events=EVENTS,
                           deliveries=service.recent_deliveries(db.session, row.id), new_secret=new_secret,
                           allow_http=_allow_http_loopback()), code


@bp.route("/<int:endpoint_id>", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def endpoint(endpoint_id: int):
    row = db.get_or_404(WebhookEndpoint, endpoint_id)
    form = EndpointForm(obj=None)
    if not form.is_submitted():
        form = EndpointForm(formdata=None, url=row.url, description=row.description, events=row.event_codes,
                            active=row.active)
        return _endpoint_page(row, form)
    if not form.validate():
        return _endpoint_page(row, form, code=422)
    try:
        service.update_endpoint(db.session, row, _data(form), actor=acting_staff(),
                                allow_http_loopback=_allow_http_loopback())
    except service.WebhookError as error:
        db.session.rollback()
        _field_error(form, error)
        return _endpoint_page(db.get_or_404(WebhookEndpoint, endpoint_id), form, code=422)
    db.session.commit()
    flash(_("Endpoint saved."), "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=row.id))


@bp.route("/<int:endpoint_id>/secret", methods=["POST"])
@roles_required(Role.MANAGER)
def new_secret(endpoint_id: int):
    row = db.get_or_404(WebhookEndpoint, endpoint_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired. Please try again."), "warning")
        return redirect(url_for("webhooks.endpoint", endpoint_id=row.id))
    secret = service.rotate_secret(db.session, row, actor=acting_staff())
    db.session.commit()
    flash(_("New secret made: the old one no longer signs anything. Copy it now: it is not shown again."), "success")
    form = EndpointForm(formdata=None, url=row.url, description=row.description, events=row.event_codes,
                        active=row.active)
    return _endpoint_page(row, form, new_secret=secret)


@bp.route("/<int:endpoint_id>/delete", methods=["POST"])
@roles_required(Role.MANAGER)
def delete(endpoint_id: int):
    row = db.get_or_404(WebhookEndpoint, endpoint_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired. Please try again."), "warning")
        return redirect(url_for("webhooks.endpoint", endpoint_id=row.id))
    service.delete_endpoint(db.session, row, actor=acting_staff())
    db.session.commit()
    flash(_("Endpoint deleted."), "success")
    return redirect(url_for("webhooks.index"))


@bp.route("/<int:endpoint_id>/deliveries/<int:delivery_id>/retry", methods=["POST"])
@roles_required(Role.MANAGER)
def retry(endpoint_id: int, delivery_id: int):
    row = db.get_or_404(WebhookEndpoint, endpoint_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired. Please try again."), "warning")
    elif service.retry_delivery(db.session, row, delivery_id, actor=acting_staff()):
        db.session.commit()
        flash(_("The delivery will be sent again within a minute."), "success")
    else:
        flash(_("Only a failed delivery can be sent again."), "warning")
    return redirect(url_for("webhooks.endpoint", endpoint_id=row.id) + "#deliveries")
