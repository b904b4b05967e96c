"""GET /api/v1/docs: the API's documentation page (Swagger UI, vendored under static/vendor), open to anyone like
the OpenAPI document it reads."""

from flask import Blueprint, render_template

from crm.auth.access import public

bp = Blueprint("api_docs_page", __name__)


@bp.route("/api/v1/docs")
@public
def docs():
    return render_template("api/docs.html")
