"""What WTForms does on every page with a form, done with less work and the same output.

- ``html_params``: WTForms builds each attribute of a field (name, id, class, value, ...) through
  ``Markup.format``, which runs ``string.Formatter`` in pure Python: about 9 µs an attribute, 74 µs for a
  typical input. The cart renders about 35 of them (2.6 ms of its ~10). Here each value is escaped once
  with markupsafe's C escape and the attribute is an f-string; ``tests/test_form_rendering.py`` checks the
  output against WTForms' own function on random arguments, so a WTForms release that changes it fails there.
- Its messages (``This field is required.``, the default label of a field without one): Flask-WTF loads the
  ``wtforms`` catalogue from disk once per request that uses one; it is a file of the installed package that
  cannot change while the process runs, so it is loaded once per language.
"""

from functools import lru_cache

from babel import support
from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.i18n import messages_path
from wtforms.widgets import core

from crm.locales import active_language

WTFORMS_HTML_PARAMS = core.html_params  # the original, the reference of the test


def html_params(**kwargs) -> Markup:
    """``wtforms.widgets.html_params``: attributes sorted by name, ``True`` bare, ``False`` left out,
    values HTML-escaped (markup as it is) with double quotes as ``&quot;``."""
    params = []
    for key, value in sorted(kwargs.items()):
        if value is False:
            continue
        name = escape(core.clean_key(key))
        params.append(name if value is True else f'{name}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


def install() -> None:
    """Make every WTForms widget and label use ``html_params`` above (idempotent). Input and Button hold it
    as a static method; TextArea, Select, its options and the list widgets call the module's name; Label
    calls the package's."""
    core.html_params = html_params
    widgets.html_params = html_params
    core.Input.html_params = staticmethod(html_params)
    core.Button.html_params = staticmethod(html_params)


@lru_cache(maxsize=16)
def _wtforms_catalogue(language: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [language], domain="wtforms")


class WtformsMessages:
    """WTForms' own messages in the language in use (what ``Meta.get_translations`` returns)."""

    def gettext(self, string: str) -> str:
        return _wtforms_catalogue(active_language()).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _wtforms_catalogue(active_language()).ungettext(singular, plural, n)


WTFORMS_MESSAGES = WtformsMessages()
