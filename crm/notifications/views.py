"""The manager's Messages pages: the outbox (pending, failed, skipped, sent) with "try again", the
notification settings, and the message templates with a preview on sample data."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crm.auth.access import acting_staff, roles_required
from crm.auth.models import Role
from crm.extensions import db
from crm.forms_common import ConfirmForm, choices
from crm.locales import in_language
from crm.locales import lazy_gettext as _l
from crm.notifications import bp, dispatch, queries, wording
from crm.notifications import settings as notification_settings
from crm.notifications.events import EVENTS
from crm.notifications.forms import NotificationSettingsForm, TemplateForm
from crm.notifications.outbox import CHANNEL_ORDER, REASONS, configured_channels
from crm.notifications.render import TemplateProblem, check_template, find_template
from crm.pagination import page_arg

PAGE_SIZE = 50


CHANNEL_LABELS = {"email": _l("E-mail"), "sms": _l("SMS"), "telegram": _l("Telegram")}


@bp.app_template_global()
def channel_label(code: str | None) -> str:
    return str(CHANNEL_LABELS.get(code, code or "—"))


@bp.app_template_global()
def reason_label(text: str | None) -> str:
    """Why a message was not sent, translated when it is one of the outbox's own reasons (a mail server's
    answer is shown as it came)."""
    return str(REASONS.get(text or "", text or ""))


def languages() -> list[str]:
    return list(dict.fromkeys([current_app.config["BABEL_DEFAULT_LOCALE"], *current_app.config["MESSAGE_LANGUAGES"]]))


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


@bp.route("/")
@roles_required(Role.MANAGER)
def outbox():
    shown = request.args.get("show", "attention")
    if shown not in queries.FILTERS and shown != "all":
        shown = "attention"
    page = page_arg()
    rows, has_next = queries.outbox_page(db.session, queries.FILTERS.get(shown), page, PAGE_SIZE)
    return render_template("notifications/outbox.html", rows=rows, has_next=has_next, page=page, shown=shown,
                           counts=queries.attention_counts(db.session), events=EVENTS, form=ConfirmForm(),
                           channels=configured_channels())


@bp.route("/<int:message_id>/retry", methods=["POST"])
@roles_required(Role.MANAGER)
def retry(message_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Please try again."), "warning")
    elif dispatch.retry(db.session, message_id):
        db.session.commit()
        flash(_("The message will be sent again within a minute."), "success")
    else:
        flash(_("Only a failed message can be sent again."), "warning")
    return redirect(url_for("notifications.outbox", show=request.args.get("show", "failed")))


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def settings():
    current = notification_settings.get_settings(db.session)
    form = NotificationSettingsForm(formdata=request.form if request.method == "POST" else None)
    form.notify_statuses.choices = choices(notification_settings.status_choices())
    if request.method == "GET":
        form.notify_statuses.data = sorted(notification_settings.notify_statuses(current))
        form.quiet_start.data, form.quiet_end.data = _hhmm(current.quiet_start_minute), _hhmm(current.quiet_end_minute)
        form.max_attempts.data, form.catch_up_days.data = current.max_attempts, current.catch_up_days
    elif form.validate_on_submit():
        notification_settings.save_settings(
            db.session, notify_statuses=",".join(sorted(form.notify_statuses.data or [])),
            quiet_start_minute=_minutes(form.quiet_start.data), quiet_end_minute=_minutes(form.quiet_end.data),
            max_attempts=form.max_attempts.data, catch_up_days=form.catch_up_days.data, actor=acting_staff())
        db.session.commit()
        flash(_("Notification settings saved."), "success")
        return redirect(url_for("notifications.settings"))
    code = 422 if request.method == "POST" else 200
    return render_template("notifications/settings.html", form=form, channels=configured_channels()), code


@bp.route("/templates")
@roles_required(Role.MANAGER)
def templates():
    custom = wording.customised(db.session)
    return render_template("notifications/templates.html", events=EVENTS, channel_names=CHANNEL_ORDER,
                           languages=languages(), custom=custom, channels=configured_channels())


def _template_target(event: str, channel: str, language: str):
    if event not in EVENTS or channel not in CHANNEL_ORDER or language not in languages():
        abort(404)
    return EVENTS[event]


@bp.route("/templates/<event>/<channel>/<language>", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def edit_template(event: str, channel: str, language: str):
    the_event = _template_target(event, channel, language)
    saved = find_template(db.session, event, channel, language)
    form = TemplateForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        with in_language(language):  # the editor starts from the default in the template's own language
            form.subject.data = saved.subject if saved else the_event.default_subject()
            form.body.data = saved.body if saved else the_event.default_body(channel)
    preview, code = None, 200
    if request.method == "POST":
        code = 422
        if form.validate_on_submit():
            try:
                preview = check_template(the_event, form.subject.data or "", form.body.data, language)
            except TemplateProblem as problem:
                form.body.errors.append(_("This template cannot be used: %(why)s", why=problem.message))
            else:
                code = 200
                if form.submit.data:
                    wording.save_template(db.session, event, channel, language, subject=form.subject.data or "",
                                          body=form.body.data, actor=acting_staff())
                    db.session.commit()
                    flash(_("Template saved."), "success")
                    return redirect(url_for("notifications.templates"))
    return render_template("notifications/template_form.html", form=form, event=the_event, channel=channel,
                           language=language, saved=saved, preview=preview, reset_form=ConfirmForm()), code


@bp.route("/templates/<event>/<channel>/<language>/reset", methods=["POST"])
@roles_required(Role.MANAGER)
def reset_template(event: str, channel: str, language: str):
    _template_target(event, channel, language)
    if ConfirmForm().validate_on_submit():
        wording.reset_template(db.session, event, channel, language, actor=acting_staff())
        db.session.commit()
        flash(_("The default wording is used again."), "success")
    return redirect(url_for("notifications.templates"))
