"""Every view declares who may use it; the access test walks the URL map and checks each one."""

from functools import wraps

from flask import abort
from flask_login import current_user

from crm.auth.models import Role
from crm.extensions import login_manager

ALL_STAFF = (Role.TECHNICIAN, Role.FRONT_DESK, Role.MANAGER)


def roles_required(*roles: str):
    """Allow logged-in staff with one of ``roles`` (a manager is always allowed)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles) | {Role.MANAGER}
        return wrapped

    return decorator


def acting_staff():
    """The logged-in staff member as a plain object, to pass to services as the actor."""
    return current_user._get_current_object()


def public(view):
    """Mark a view as open to anyone (login page, health check)."""
    view.allowed_roles = "public"
    return view
