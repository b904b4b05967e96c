"""Home page (each role lands on its daily work) and the health check."""

from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from crm.auth.access import ALL_STAFF, public, roles_required
from crm.auth.models import Role
from crm.extensions import db, limiter

bp = Blueprint("main", __name__)


@bp.route("/")
@roles_required(*ALL_STAFF)
def index():
    if current_user.role == Role.TECHNICIAN:
        return redirect(url_for("orders.queue"))
    if current_user.role == Role.FRONT_DESK:
        return redirect(url_for("customers.index"))
    return redirect(url_for("reports.dashboard"))


@bp.route("/healthz")
@limiter.exempt
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        return jsonify(status="error", database="unavailable", detail=type(exc).__name__), 503
    finally:
        db.session.remove()
    return jsonify(status="ok", database="ok"), 200
