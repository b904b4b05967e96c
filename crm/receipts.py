"""Printed receipts (the intake receipt of a repair, the sale receipt): the paper size the desk chose and the
QR code of the customer's tracking link, the same on both."""

import segno
from flask import request

SIZES = ("a4", "80mm")  # an office printer, or a receipt printer's 80 mm roll


def receipt_size() -> str:
    """The size asked for in the query string (?size=80mm); anything else is A4."""
    size = request.args.get("size", "")
    return size if size in SIZES else SIZES[0]


def qr_code(url: str) -> str:
    """The link as a QR code, a data: URI for an <img> (never inline markup), readable off a thermal print."""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)
