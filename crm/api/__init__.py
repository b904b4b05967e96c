"""The JSON API (/api/v1) for other programs, described by an OpenAPI 3.1 document generated from the code by
flask-smorest (/api/v1/openapi.json), with API tokens a manager makes on the "API tokens" page."""

import http

from flask import Flask, Response
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every API error is answered (crm/api/problems.py)."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "For bad input: the field and its messages."})


class CrmApi(Api):
    """flask-smorest, without its app-wide JSON error handler (the staff pages keep their HTML error pages; errors
    under /api/ become problems in crm/__init__.py's handlers), and with the error responses documented as what
    they are: application/problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "An RFC 9457 problem", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)


api = CrmApi()


def init_app(app: Flask) -> None:
    from crm.api import docs_page, token_views, v1, v1_loyalty, v1_orders, v1_sales, widget_views  # noqa: F401
    from crm.auth.access import public
    from crm.extensions import csrf

    app.config.setdefault("API_TITLE", "Repair-shop CRM API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(app, spec_kwargs={"info": {"description": "Read a repair shop's customers, repairs, points, "
                                                           "catalogue and sales. Authenticate with "
                                                           "`Authorization: Bearer <token>`."}})
    api.spec.components.security_scheme("token", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"token": []}]
    csrf.exempt(v1.blp)
    api.register_blueprint(v1.blp)  # with the routes of v1_loyalty, v1_orders and v1_sales
    app.register_error_handler(v1.NotModifiedTag, _not_modified)
    app.register_blueprint(token_views.bp)
    app.register_blueprint(docs_page.bp)
    app.register_blueprint(widget_views.bp)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api-docs."):
            app.view_functions[endpoint] = public(_plain(view))


def _not_modified(error):
    """304 Not Modified: no body, the ETag repeated."""
    response = Response(status=304)
    del response.headers["Content-Type"]
    response.set_etag(error.etag)
    return response


def _plain(view):
    """A function around a bound method (the access marker cannot be set on a method)."""
    def wrapped(*args, **kwargs):
        return view(*args, **kwargs)
    wrapped.__name__ = getattr(view, "__name__", "api_docs")
    return wrapped
