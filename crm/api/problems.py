"""Errors of the API as RFC 9457 problem details (application/problem+json): a status, a title, a detail, and for
bad input the same field errors the web forms give (``errors``: field name -> messages)."""

from flask import Response, json
from werkzeug.exceptions import HTTPException, UnprocessableEntity

TYPE_BASE = "https://repair-crm.invalid/problems/"  # stable identifiers, not pages


def problem(status: int, title: str, detail: str = "", *, errors: dict | None = None, headers: dict | None = None,
            kind: str | None = None) -> Response:
    body = {"type": TYPE_BASE + (kind or str(status)), "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_http_exception(error: HTTPException) -> Response:
    """Any HTTP error raised under /api/: webargs' 422 carries the field messages in ``error.data``."""
    data = getattr(error, "data", None) or {}
    errors = _flatten(data.get("messages")) if isinstance(data, dict) else None
    headers = {name: value for name, value in (error.get_headers() or []) if name.lower() != "content-type"}
    return problem(error.code or 500, error.name, error.description or "", errors=errors, headers=headers)


def _flatten(messages) -> dict | None:
    """webargs groups messages by location ({"query": {"limit": [...]}}): the fields, whatever the location."""
    if not isinstance(messages, dict):
        return None
    fields: dict = {}
    for location, found in messages.items():
        if isinstance(found, dict):
            fields.update({str(name): value for name, value in found.items()})
        else:
            fields[str(location)] = found
    return fields or None


def api_problem(error, code: int) -> Response:
    """The problem for an error raised under /api/ (an HTTPException, or anything else as a 500)."""
    if isinstance(error, HTTPException):
        return from_http_exception(error)
    return problem(code, "Internal Server Error", "The server could not answer; the error is logged.")


def unprocessable(field: str, message: str):
    """Raise the 422 of a rule a service refused, naming its field (as the web form shows it)."""
    error = UnprocessableEntity(message)
    error.data = {"messages": {"json": {field: [message]}}}
    raise error
