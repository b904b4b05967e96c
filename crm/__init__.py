"""The repair-shop CRM: create_app() builds the Flask application."""

import os

from flask import Flask, render_template, request, session
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from config import BASE_DIR, CONFIGS, settings_problems
from crm import form_rendering, security_headers
from crm.database import configure_engine, sqlite_write_intent
from crm.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate
from crm.locales import active_language, install_template_gettext, interface_language, language_choices
from crm.navigation import navigation_links


def create_app(config_name: str | None = None, **overrides) -> Flask:
    config_name = config_name or os.environ.get("CRM_CONFIG", "development")
    app = Flask(__name__, template_folder=str(BASE_DIR / "templates"), static_folder=str(BASE_DIR / "static"),
                instance_path=str(BASE_DIR / "instance"))
    app.config.from_object(CONFIGS[config_name])
    app.config.update(overrides)
    problems = settings_problems(app.config)
    if problems:
        raise RuntimeError(f"Refusing to start ({config_name} settings): " + " ".join(problems))
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config["PROXY_FIX_X_FOR"]:
        n = app.config["PROXY_FIX_X_FOR"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    elif config_name == "production":
        app.logger.warning(
            "PROXY_FIX_X_FOR is 0, so the client address is the connecting one: behind a reverse proxy every client "
            "shares the proxy's address, and once anyone reaches the failed-login limit (LOGIN_RATE_LIMIT) every "
            "staff login waits. Set PROXY_FIX_X_FOR to the number of proxies in front (nginx: 1).")

    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    security_headers.register(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    from crm.scheduler import start_in_web

    start_in_web(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=interface_language)
    install_template_gettext(app)
    form_rendering.install()
    limiter.init_app(app)
    bootstrap.init_app(app)

    from crm.auth.models import StaffUser

    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    from crm.locales import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.session_protection = "basic"

    from sqlalchemy import bindparam, select

    # Every staff request runs this: built once (building it and its cache key costs more than running it).
    by_session_token = select(StaffUser).where(StaffUser.session_token == bindparam("token"),
                                               StaffUser.is_active_account.is_(True))

    @login_manager.user_loader
    def load_user(token: str):
        return db.session.scalar(by_session_token, {"token": token})


def register_blueprints(app: Flask) -> None:
    from crm import audit_views, main
    from crm.api import init_app as init_api
    from crm.auth import bp as auth_bp
    from crm.catalogue import bp as catalogue_bp
    from crm.customers import bp as customers_bp
    from crm.customers.public_views import public_bp as customer_public_bp
    from crm.feedback import bp as feedback_bp
    from crm.feedback import public_bp as feedback_public_bp
    from crm.loyalty import bp as loyalty_bp
    from crm.notifications import bp as notifications_bp
    from crm.orders import bp as orders_bp
    from crm.orders import tracking_bp
    from crm.privacy import bp as privacy_bp
    from crm.reports import bp as reports_bp
    from crm.sales import bp as sales_bp
    from crm.webhooks import bp as webhooks_bp

    app.register_blueprint(main.bp)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(customers_bp)
    app.register_blueprint(customer_public_bp)
    app.register_blueprint(loyalty_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(catalogue_bp)
    app.register_blueprint(sales_bp)
    app.register_blueprint(tracking_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(feedback_public_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(webhooks_bp)
    init_api(app)


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def declare_write_intent():
        sqlite_write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.teardown_request
    def restore_write_intent(_exc):
        sqlite_write_intent.set(True)

    @app.after_request
    def staff_pages_are_not_stored(response):
        # Desk computers are shared: no page a staff member saw may stay in the browser's cache for the next
        # person (back button, disk). Static files keep their caching; visitors' pages set their own headers.
        # A session that names a staff member is enough (and costs no statement: after a commit the user row
        # would be read again only to answer is_authenticated).
        endpoint = request.endpoint or ""
        if endpoint != "static" and not endpoint.endswith(".static") and session.get("_user_id") is not None:
            response.headers["Cache-Control"] = "no-store"
        return response


def register_errorhandlers(app: Flask) -> None:
    from flask import abort
    from flask_wtf.csrf import CSRFError

    from crm.api.problems import api_problem
    from crm.numbers import MAX_ID

    @app.url_value_preprocessor
    def ids_within_integer_range(endpoint, values):
        # An id in a URL beyond the INTEGER columns names nothing (PostgreSQL would raise, not miss).
        if values and any(isinstance(v, int) and not 0 <= v <= MAX_ID for v in values.values()):
            abort(404)

    def render_error(code: int, template: str):
        def handler(error):
            db.session.rollback()
            if request.path.startswith("/api/"):  # other programs get RFC 9457 problems, not pages
                return api_problem(error, code)
            return render_template(template, error=error), code
        return handler

    for code in (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500):
        app.register_error_handler(code, render_error(code, "errors/error.html"))
    app.register_error_handler(CSRFError, render_error(400, "errors/csrf.html"))


def register_template_helpers(app: Flask) -> None:
    from crm.customers.phones import display_phone
    from crm.money import shop_money
    from crm.orders.device import DEVICE_TYPES, PRIORITIES
    from crm.orders.status import Status
    from crm.pagination import page_url
    from crm.sales.checkout import payment_method_label
    from crm.shop_time import format_local, local_now

    app.add_template_filter(shop_money, "money")

    @app.template_filter("localtime")
    def localtime_filter(value, kind="datetime"):
        """A stored moment in the shop's time zone, written as the page's language writes dates."""
        return format_local(value, kind, active_language()) if value else ""

    @app.template_filter("phone")
    def phone_filter(value):
        return display_phone(value, app.config["PHONE_REGION"]) if value else ""

    app.jinja_env.globals.update(
        get_locale=get_locale,  # <html lang>: the staff member's language, or the customer's on their own pages
        language_choices=language_choices,
        shop_name=app.config["SHOP_NAME"],
        status_label=lambda value: Status(value).label,
        device_label=lambda value: DEVICE_TYPES.get(value, value),
        priority_label=lambda value: PRIORITIES.get(value, value),
        payment_method_label=payment_method_label,
        page_url=page_url,
        navigation_links=navigation_links,
    )

    @app.context_processor
    def inject_today():
        return {"today": local_now().date()}


def register_commands(app: Flask) -> None:
    from crm.cli import crm_cli

    app.cli.add_command(crm_cli)
