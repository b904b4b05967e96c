"""Writes through the API: one transaction per call, committed here, and the ``Idempotency-Key`` header.

With a key, the call first claims (token, key) by inserting its row: a second call with the same key waits on
the unique index until the first commits (PostgreSQL; on SQLite write transactions queue anyway), then finds the
stored answer and replays it, so concurrent calls have one effect. The same key with another request (method,
path or body) is refused with 409. A call that fails (4xx, 5xx) stores nothing: the client may fix it and send it
again with the same key."""

import hashlib
from functools import wraps

from flask import Response, abort, g, make_response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm.api.models import IdempotentRequest
from crm.database import utcnow
from crm.extensions import db
from crm.text import CONTROL_CHARACTERS

HEADER = "Idempotency-Key"
MAX_KEY = 100


def _digest() -> str:
    head = f"{request.method} {request.path}?{request.query_string.decode('latin-1')}\n".encode()
    return hashlib.sha256(head + request.get_data()).hexdigest()


def _key() -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY or CONTROL_CHARACTERS.search(key):
        error_key = f"The {HEADER} header must be 1 to {MAX_KEY} visible characters."
        abort(400, description=error_key)
    return key


def _earlier(token_id: int, key: str) -> IdempotentRequest | None:
    return db.session.scalar(select(IdempotentRequest).where(IdempotentRequest.token_id == token_id,
                                                            IdempotentRequest.key == key))


def _replay(earlier: IdempotentRequest, digest: str) -> Response:
    if earlier.request_digest != digest:
        abort(409, description=f"This {HEADER} was used for another request.")
    response = Response(earlier.body, status=earlier.status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _claim(token_id: int, key: str, digest: str) -> IdempotentRequest | Response:
    """The claimed row, or the replay of the call that holds the key."""
    earlier = _earlier(token_id, key)
    if earlier is not None:
        return _replay(earlier, digest)
    row = IdempotentRequest(token_id=token_id, key=key, request_digest=digest, status=0, body="",
                            created_at=utcnow())
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()  # another call with this key committed first
        earlier = _earlier(token_id, key)
        if earlier is None:
            raise
        return _replay(earlier, digest)
    return row


def write(view):
    """Run an API write in one transaction, committed when it succeeds, honouring the Idempotency-Key."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = _key()
        claim = _claim(g.api_token.id, key, _digest()) if key else None
        if isinstance(claim, Response):
            return claim
        response = make_response(view(*args, **kwargs))
        if response.status_code >= 400:
            db.session.rollback()
            return response
        if claim is not None:
            claim.status, claim.body = response.status_code, response.get_data(as_text=True)
        db.session.commit()
        return response

    return wrapped
