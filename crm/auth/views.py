from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from crm.auth import bp, service
from crm.auth.access import ALL_STAFF, public, roles_required
from crm.auth.forms import LanguageForm, LoginForm, OwnPasswordForm, PasswordResetForm, StaffCreateForm, StaffEditForm
from crm.auth.models import Role, StaffUser
from crm.database import utcnow
from crm.extensions import db


def _safe_next(target: str | None) -> str | None:
    # Only same-site relative paths: "/x" but not "//evil.example" or "/\\evil". Control characters are
    # refused too: browsers drop tabs and newlines ("/\t/evil.example" is "//evil.example"), and a
    # newline cannot go into the Location header at all (a 500 after a successful login).
    if target and any(ord(c) < 32 or c == "\x7f" for c in target):
        return None
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            # remote_addr is the client's own address when ProxyFix is configured (PROXY_FIX_X_FOR).
            user = service.authenticate(db.session, form.username.data, form.password.data,
                                        address=request.remote_addr,
                                        policy=service.LoginPolicy.from_config(current_app.config))
        except service.TooManyAttempts as exc:
            form.password.errors.append(str(exc.message))
            status = 429
        except service.AuthError as exc:
            db.session.commit()  # keep the failure
            form.password.errors.append(str(exc.message))
        else:
            db.session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@roles_required(*ALL_STAFF)
def logout():
    service.end_sessions(db.session, current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@roles_required(*ALL_STAFF)
def change_own_password():
    form = OwnPasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            service.change_own_password(db.session, user, form.current_password.data, form.password.data)
        except service.AuthError as exc:
            getattr(form, exc.field or "password").errors.append(str(exc.message))
        else:
            db.session.commit()
            login_user(user)  # the token rotated; keep this browser logged in
            flash(_("Your password was changed. Other sessions were logged out."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form, user=current_user, own=True)


@bp.route("/account/language", methods=["POST"])
@roles_required(*ALL_STAFF)
def set_language():
    """The language switch in the navigation: this person's interface language, then back to the page."""
    form = LanguageForm()
    if form.validate_on_submit():
        service.set_language(db.session, current_user._get_current_object(), form.language.data)
        db.session.commit()
    else:
        flash(_("Choose one of the languages in the list."), "warning")
    return redirect(_safe_next(request.form.get("next")) or url_for("main.index"))


@bp.route("/staff")
@roles_required(Role.MANAGER)
def staff_list():
    now = utcnow()
    staff = service.list_staff(db.session)
    locked = {user.id for user in staff if service.is_locked(user, now)}
    return render_template("auth/staff_list.html", staff=staff, locked=locked)


@bp.route("/staff/new", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def staff_new():
    form = StaffCreateForm()
    if form.validate_on_submit():
        try:
            user = service.create_staff(
                db.session, username=form.username.data, full_name=form.full_name.data,
                role=form.role.data, password=form.password.data, language=form.language.data,
                actor=current_user._get_current_object(),
            )
        except service.AuthError as exc:
            getattr(form, exc.field or "username").errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Account %(name)s created.", name=user.username), "success")
            return redirect(url_for("auth.staff_list"))
    return render_template("auth/staff_form.html", form=form, user=None)


def _staff_account(user_id: int) -> StaffUser:
    """A staff account; an API token's actor (crm.api.tokens) is none: it is never edited into a login."""
    user = db.get_or_404(StaffUser, user_id)
    if user.is_api_actor:
        abort(404)
    return user


@bp.route("/staff/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def staff_edit(user_id: int):
    user = _staff_account(user_id)
    form = StaffEditForm(obj=user) if request.method == "GET" else StaffEditForm()
    if request.method == "GET":
        form.active.data = user.is_active_account
        form.language.data = user.language or ""
        form.commission.data = user.commission_basis_points
    if form.validate_on_submit():
        try:
            service.update_staff(db.session, user, full_name=form.full_name.data, role=form.role.data,
                                 active=form.active.data, acting=current_user._get_current_object(),
                                 language=form.language.data if "language" in request.form else user.language,
                                 commission_basis_points=form.commission.data if "commission" in request.form
                                 else None)
        except service.AuthError as exc:
            getattr(form, exc.field or "role", form.role).errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Account %(name)s saved.", name=user.username), "success")
            return redirect(url_for("auth.staff_list"))
    return render_template("auth/staff_form.html", form=form, user=user)


@bp.route("/staff/<int:user_id>/unlock", methods=["POST"])
@roles_required(Role.MANAGER)
def staff_unlock(user_id: int):
    user = _staff_account(user_id)
    if service.unlock(db.session, user, actor=current_user._get_current_object()):
        db.session.commit()
        flash(_("Account %(name)s unlocked.", name=user.username), "success")
    else:
        flash(_("Account %(name)s is not locked.", name=user.username), "info")
    return redirect(url_for("auth.staff_list"))


@bp.route("/staff/<int:user_id>/password", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def staff_password(user_id: int):
    if user_id == current_user.id:
        # One's own password is changed with the current one, so an unattended logged-in browser is not enough.
        flash(_("Change your own password here: it asks for your current password."), "info")
        return redirect(url_for("auth.change_own_password"))
    user = _staff_account(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            service.set_password(db.session, user, form.password.data, actor=current_user._get_current_object())
        except service.AuthError as exc:
            form.password.errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Password of %(name)s reset.", name=user.username), "success")
            return redirect(url_for("auth.staff_list"))
    return render_template("auth/password.html", form=form, user=user, own=False)
