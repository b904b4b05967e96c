"""Absolute links printed on receipts and put in messages: the configured public address of the CRM
(PUBLIC_BASE_URL, which production cannot start without), else in development the address of the current
request (its Host header, which the client chooses), else (jobs in development) the local development server."""

from flask import current_app, has_request_context, request

DEV_BASE = "http://localhost:5000/"


def public_base() -> str:
    base = current_app.config.get("PUBLIC_BASE_URL") or (request.url_root if has_request_context() else DEV_BASE)
    return base.rstrip("/")


def public_url(path: str) -> str:
    return public_base() + "/" + path.lstrip("/")
