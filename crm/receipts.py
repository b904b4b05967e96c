"""Printed receipts (the intake receipt of a repair, the sale receipt): the paper size and the language the desk
chose, and the QR code of the customer's tracking link, the same on both."""

import segno
from flask import current_app, request
from flask_babel import get_locale

SIZES = ("a4", "80mm")  # an office printer, or a receipt printer's 80 mm roll


def receipt_size() -> str:
    """The size asked for in the query string (?size=80mm); anything else is A4."""
    size = request.args.get("size", "")
    return size if size in SIZES else SIZES[0]


def qr_code(url: str) -> str:
    """The link as a QR code, a data: URI for an <img> (never inline markup), readable off a thermal print."""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


def receipt_language(customer_language: str | None) -> str:
    """The language a receipt is printed in: the one chosen at print time (?lang=), else the customer's, else
    the staff member's page language."""
    languages = current_app.config["LANGUAGES"]
    for choice in (request.args.get("lang"), customer_language):
        if choice in languages:
            return choice
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
