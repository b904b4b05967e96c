"""Absolute links printed on receipts and put in messages. Their base is PUBLIC_BASE_URL, which production
cannot start without; in development it defaults to the local development server. Never the request's Host
header: a client chooses that, and a link in a customer's message must not point where a client said. So a
page, a service and a job build the same link."""

from flask import current_app

DEV_BASE = "http://localhost:5000"


def public_base() -> str:
    return (current_app.config.get("PUBLIC_BASE_URL") or DEV_BASE).rstrip("/")


def public_url(path: str) -> str:
    return public_base() + "/" + path.lstrip("/")
