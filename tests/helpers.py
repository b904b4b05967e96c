"""Helpers shared by the view tests."""

from contextlib import contextmanager
from html.parser import HTMLParser

from crm.extensions import db


@contextmanager
def app_session(app):
    with app.app_context():
        yield db.session
        db.session.commit()
        db.session.remove()


class FormPage(HTMLParser):
    """What a rendered form shows: each field's value and the errors printed next to it, by element id."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, object] = {}
        self.errors: dict[str, list[str]] = {}
        self._capture: tuple[str, str] | None = None
        self._buffer: list[str] = []
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("id"):
            self.values[a["id"]] = ("checked" in a) if a.get("type") == "checkbox" else a.get("value", "")
        elif tag == "textarea" and a.get("id"):
            self._capture, self._buffer = ("value", a["id"]), []
        elif tag == "select" and a.get("id"):
            self._select = a["id"]
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value")
        elif tag == "div" and a.get("id", "").endswith("-error"):
            self._capture, self._buffer = ("error", a["id"].removesuffix("-error")), []

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if self._capture and tag in ("textarea", "div"):
            kind, key = self._capture
            text = "".join(self._buffer)
            if kind == "value":
                # WTForms writes a newline right after <textarea>, which browsers drop.
                self.values[key] = text.removeprefix("\r\n").removeprefix("\n")
            else:
                self.errors.setdefault(key, []).append(text.strip())
            self._capture = None

    def handle_data(self, data):
        if self._capture:
            self._buffer.append(data)
