"""Fixtures of the API tests: tokens of a role, data made and committed outside any request, calls sent at once."""

import threading

import pytest

from crm.api import tokens
from crm.database import utcnow
from crm.extensions import db


@pytest.fixture
def api_token(app):
    """``api_token(role)``: the Authorization header of a new token with that role (named "Website <role>")."""

    def make(role: str = "front_desk", name: str | None = None) -> dict:
        with app.app_context():
            _, secret = tokens.create_token(db.session, name=name or f"Website {role}", role=role, expires_at=None,
                                            actor=None, now=utcnow())
            db.session.commit()
            db.session.remove()
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def committed(app):
    """``committed(build)``: run ``build(session)`` in its own app context, commit, and return what it returned
    (ids and plain values: the objects do not outlive the session)."""

    def run(build):
        with app.app_context():
            value = build(db.session)
            db.session.commit()
            db.session.remove()
        return value

    return run


def at_once(app, count: int, call) -> list:
    """``call(client)`` from ``count`` threads released together; the answers (status, JSON body)."""
    barrier, answers = threading.Barrier(count), []

    def run():
        client = app.test_client()
        barrier.wait()
        response = call(client)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == count
    return answers
