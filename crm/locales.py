"""Languages: lazy translations that stay plain text, and speaking a customer's language outside the staff
member's (messages and the customer's own pages)."""

from contextlib import nullcontext
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from flask import current_app, has_app_context, has_request_context, request
from flask.globals import _cv_app
from flask_babel import LazyString as _BabelLazyString
from flask_babel import force_locale, get_locale, get_translations
from jinja2 import pass_context
from jinja2.ext import Extension
from jinja2.lexer import Token
from markupsafe import Markup, escape


class LazyText(_BabelLazyString):
    """A translation evaluated when it is used, that is plain text like any other string.

    Flask-Babel's LazyString declares itself HTML-safe: its ``__html__`` returns the text unescaped, so a
    value interpolated into it (an item's name in a form label, say) reached the page as markup. That was
    a stored XSS; here the whole text is escaped whenever it meets HTML (Jinja, WTForms labels, Markup)."""

    def __html__(self) -> Markup:
        return escape(str(self))


def _gettext(string: str, **variables) -> str:
    """Flask-Babel's gettext through current_translations (a lazy label is translated on every use)."""
    text = current_translations().ugettext(string)
    return text % variables if variables else text


def _ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return current_translations().ungettext(singular, plural, num) % variables


def _pgettext(context: str, string: str, **variables) -> str:
    text = current_translations().upgettext(context, string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables) -> LazyText:
    """The project's ``_l``: Flask-Babel's lazy_gettext, but plain text (see LazyText)."""
    return LazyText(_gettext, string, **variables)


def lazy_ngettext(singular: str, plural: str, num: int, **variables) -> LazyText:
    """The project's ``_ln``: the plural form for ``num`` (uk and ru have three), as plain text. ``%(num)d`` is the
    number in both forms."""
    return LazyText(_ngettext, singular, plural, num, **variables)


def lazy_pgettext(context: str, string: str, **variables) -> LazyText:
    """The project's ``_lp``: a word that reads differently in another place ("Received" as a repair's status and
    as goods arriving in stock) gets a context, so each can be translated on its own."""
    return LazyText(_pgettext, context, string, **variables)


def lazy_text(func) -> LazyText:
    """Any text computed late (in the language active when it is used), e.g. a message variable."""
    return LazyText(func)


def active_locale() -> Locale | None:
    """What ``get_locale()`` gives, read where Flask-Babel 4 keeps it (``g._flask_babel.babel_locale``, which
    force_locale also sets and restores) before asking it. A list page formats ~180 amounts and dates, and each
    get_locale goes through the ``g`` proxy twice (~1 ms a page); a missing value still goes through get_locale."""
    app_ctx = _cv_app.get(None)
    state = app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None
    locale = getattr(state, "babel_locale", None)
    return locale if locale is not None else get_locale()


def active_language() -> str:
    """The language in use as an identifier ("uk", "ro"), the shop's default outside a request or app."""
    locale = active_locale()
    if locale is not None:
        return str(locale)
    return current_app.config["BABEL_DEFAULT_LOCALE"] if has_app_context() else "en"


def current_translations():
    """The catalogue of the language in use, looked up once per request and language: a staff page calls gettext
    about a hundred times, and Flask-Babel finds the catalogue anew on each call (the locale, its name, the
    domain). A change of language (force_locale, in_language) makes a new Locale object, hence a new lookup."""
    app_ctx = _cv_app.get(None)  # the context itself, not through the g proxy: ~75 calls a page
    if app_ctx is None:
        return get_translations()
    state = app_ctx.g.__dict__
    locale = active_locale()
    memo = state.get("_crm_translations")
    if memo is None or memo[0] is not locale:
        memo = state["_crm_translations"] = (locale, get_translations())
    return memo[1]


def install_template_gettext(app) -> None:
    """The templates' _(), ngettext() and pgettext() through current_translations (after Flask-Babel's init), and
    ``_('a constant')`` compiled as a filter (ConstantGettext)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.filters[_CONSTANT_FILTER] = _translated_constant
    app.jinja_env.add_extension(ConstantGettext)


_CONSTANT_FILTER = "crm_translated_constant"


@pass_context  # not pass_eval_context: Jinja would fold the call into the compiled template, in one language
def _translated_constant(context, string: str):
    """What Jinja's newstyle gettext gives for ``_(string)`` without variables: the translation formatted with no
    values (``%%`` becomes ``%``), HTML-safe where the template autoescapes (translations are the project's own
    text), plain text in a text template."""
    text = current_translations().ugettext(string) % {}
    return Markup(text) if context.eval_ctx.autoescape else text


class ConstantGettext(Extension):
    """Compiles ``_('a constant string')`` in a template as ``'a constant string'|crm_translated_constant``.

    A template calls a function through Jinja's Context.call (which looks for pass_context markers on every call)
    and the newstyle gettext calls the translation function through it once more: about 7 us a string, and a
    staff page shows fifty to a hundred of them. A filter is resolved when the template compiles and called
    directly. Calls with variables, ngettext and pgettext stay as they are; extraction (pybabel) reads the
    source, so it sees the same ``_()`` calls."""

    def filter_stream(self, stream):
        window: list[Token] = []  # the tokens not yet passed on: a call is four, and the one after it is looked at
        previous = None
        for token in stream:
            window.append(token)
            if len(window) == 5:
                previous = yield from self._pass_on(window, previous)
        while window:
            previous = yield from self._pass_on(window, previous)

    @staticmethod
    def _pass_on(window: list[Token], previous: Token | None):
        """Yield the window's first token, or the filter form of the constant call the window starts with (a call
        neither reached as an attribute nor followed by one, an index or a call). Returns the last token
        yielded."""
        if len(window) >= 4:
            name, lparen, string, rparen = window[:4]
            following = window[4].type if len(window) > 4 else None
            if (name.type == "name" and name.value == "_" and lparen.type == "lparen" and string.type == "string"
                    and rparen.type == "rparen" and getattr(previous, "type", None) != "dot"
                    and following not in ("dot", "lbracket", "lparen")):
                del window[:4]
                yield string
                yield Token(name.lineno, "pipe", "|")
                yield Token(name.lineno, "name", _CONSTANT_FILTER)
                return rparen
        first = window.pop(0)
        yield first
        return first


@lru_cache(maxsize=32)  # the navigation shows the list on every staff page
def language_name(code: str) -> str:
    """A language by its own name ("Українська", "Română"): how people look for theirs in a list."""
    try:
        return Locale.parse(code).get_display_name(code).capitalize()
    except (UnknownLocaleError, ValueError, TypeError):
        return code


def language_choices() -> list[tuple[str, str]]:
    return [(code, language_name(code)) for code in current_app.config["LANGUAGES"]]


def interface_language() -> str:
    """The language of a staff page (Flask-Babel's locale selector): the staff member's own choice, else the
    browser's best among the shop's languages (the login page), else the shop's DEFAULT_LOCALE. The customer's
    pages and messages use the customer's language instead (in_language)."""
    from flask_login import current_user  # here, not at import: crm.locales is imported by the models

    languages = current_app.config["LANGUAGES"]
    if has_request_context():
        chosen = getattr(current_user, "language", None) if current_user.is_authenticated else None
        if chosen in languages:
            return chosen
        best = request.accept_languages.best_match(languages)
        if best:
            return best
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def in_language(language: str | None):
    """A context in which gettext speaks ``language``. A code Babel does not know (a shop that wrote "ua"
    for Ukrainian in MESSAGE_LANGUAGES, say) keeps the shop's language rather than failing."""
    try:
        Locale.parse(language or "")
    except (UnknownLocaleError, ValueError, TypeError):
        return nullcontext()
    return force_locale(language)
