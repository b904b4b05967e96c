"""The manager's Feedback page: every rating with filters (rating, technician, dates, to follow up), low ratings
flagged, and the follow-up form of each low rating."""

from urllib.parse import urlencode

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crm.auth.access import acting_staff, roles_required
from crm.auth.models import Role
from crm.auth.service import active_technicians
from crm.extensions import db
from crm.feedback import bp, queries, service
from crm.feedback.forms import FollowUpForm
from crm.feedback.models import Feedback
from crm.numbers import whole_number
from crm.pagination import date_arg, page_arg


def _filters() -> queries.Filters:
    rating = whole_number(request.args.get("rating"), maximum=5)
    return queries.Filters(rating=rating or None,
                           technician_id=whole_number(request.args.get("technician")) or None,
                           date_from=date_arg("from"), date_to=date_arg("to"),
                           to_follow_up=request.args.get("follow_up") == "open")


def _render(code: int = 200, refused: tuple[int, FollowUpForm] | None = None):
    filters = _filters()
    page = page_arg()
    rows, has_next = queries.feedback_list(db.session, filters, page=page, page_size=current_app.config["PAGE_SIZE"])
    forms = {}
    for row in rows:
        if row.feedback.follow_up != "none":
            forms[row.feedback.id] = FollowUpForm(formdata=None, prefix=f"f{row.feedback.id}",
                                                  status=row.feedback.follow_up, note=row.feedback.follow_up_note)
    if refused is not None:
        forms[refused[0]] = refused[1]
    return render_template("feedback/index.html", rows=rows, filters=filters, page=page, has_next=has_next,
                           forms=forms, technicians=active_technicians(db.session)), code


@bp.route("")
@roles_required(Role.MANAGER)
def index():
    return _render()


@bp.route("/<int:feedback_id>/follow-up", methods=["POST"])
@roles_required(Role.MANAGER)
def follow_up(feedback_id: int):
    feedback = db.session.get(Feedback, feedback_id) or abort(404)
    form = FollowUpForm(prefix=f"f{feedback_id}")
    if form.validate_on_submit():
        try:
            service.record_follow_up(db.session, feedback, status=form.status.data, note=form.note.data,
                                     actor=acting_staff())
        except service.FeedbackError as error:
            db.session.rollback()
            getattr(form, error.field or "status").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Follow-up saved."), "success")
            # Back to the list as it was filtered (the query string goes after url_for, never into it).
            query = urlencode(list(request.args.items(multi=True)))
            return redirect(url_for("feedback.index") + (f"?{query}" if query else "") + f"#feedback-{feedback_id}")
    return _render(422, refused=(feedback_id, form))
