"""The catalogue of accessories, parts and services: items, categories and stock movements."""

from flask import Blueprint

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")

from crm.catalogue import models, views  # noqa: E402,F401,I001
