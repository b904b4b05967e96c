"""Who is calling the API: a bearer token (never a session cookie, so no CSRF), checked before every API view,
and the roles a view allows, with the same rules as the web pages (a manager may do everything; a read-only
token may only read)."""

from functools import wraps

from flask import abort, current_app, g, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from crm.api import tokens
from crm.api.models import TokenRole
from crm.database import utcnow
from crm.extensions import db

READERS = frozenset(TokenRole)


def authenticate_request():
    """Blueprint before_request: 401 (problem+json, WWW-Authenticate) unless a usable token is sent."""
    request.max_content_length = current_app.config["API_MAX_BODY_BYTES"]
    now = utcnow()
    token = tokens.authenticate(db.session, request.headers.get("Authorization"), now)
    if token is None:
        raise Unauthorized(description="Send a valid API token: Authorization: Bearer crm_...",
                           www_authenticate=WWWAuthenticate("bearer"))
    g.api_token = token
    tokens.touch(db.session, db.engine, token, now)


def rate_key() -> str:
    """Flask-Limiter's key for the API: the token (its hash), before any database lookup."""
    header = request.headers.get("Authorization") or ""
    return "api:" + tokens.digest(header)[:32]


def api_rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def allow(*roles: str):
    """Let tokens with one of ``roles`` call the view (a manager token always; READERS: every token)."""
    allowed = frozenset(roles) | {TokenRole.MANAGER}

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.api_token.role not in allowed:
                abort(403, description="This token's role may not do this.")
            return view(*args, **kwargs)

        wrapped.allowed_roles = "api"
        wrapped.api_roles = allowed
        return wrapped

    return decorator
