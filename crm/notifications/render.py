"""Rendering messages from the manager's templates in Jinja's sandbox.

Templates are written by staff, so they run in ``ImmutableSandboxedEnvironment``: attribute access
to Python internals (``__class__``, ``mro``, ...) raises SecurityError, and the variables are plain
strings and numbers, never model objects. A template that fails is refused when it is saved; at send
time the shipped default is used instead, so a broken template never loses a message."""

from dataclasses import dataclass

from flask_babel import gettext as _
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.locales import in_language
from crm.notifications.events import EVENTS, Event
from crm.notifications.models import MessageTemplate

MAX_SUBJECT = 300
MAX_BODY = 5000

MAX_REPEAT = 10_000


class MessageSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, also refusing the two operators that can exhaust memory or CPU from one line
    ("x" * 10**9, 9 ** 9 ** 9)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, int | float) and abs(right) > 100:
            raise SecurityError("exponent too large")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(count, int) and len(seq) * count > MAX_REPEAT:
                    raise SecurityError("repetition too large")
        return super().call_binop(context, operator, left, right)


_text_env = MessageSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class TemplateProblem(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render_string(source: str, variables: dict) -> str:
    """Render one template string in the sandbox; any failure becomes a TemplateProblem."""
    try:
        return _text_env.from_string(source).render(**variables)
    except TemplateError as error:  # SecurityError, UndefinedError and TemplateSyntaxError are TemplateErrors
        raise TemplateProblem(str(error)[:300]) from None
    except (ArithmeticError, TypeError, ValueError, OverflowError, RecursionError) as error:
        raise TemplateProblem(f"{type(error).__name__}: {str(error)[:250]}") from None


def text_to_html(text: str, unsubscribe_url: str | None, unsubscribe_label: str = "Unsubscribe") -> str:
    """The HTML alternative of a text message: escaped paragraphs, links made clickable."""
    paragraphs = []
    for block in text.split("\n\n"):
        lines = [_linkify(line) for line in block.split("\n")]
        paragraphs.append(Markup("<p>") + Markup("<br>\n").join(lines) + Markup("</p>"))
    html = Markup("\n").join(paragraphs)
    if unsubscribe_url:
        html += Markup('\n<p style="font-size:smaller"><a href="{0}">{1}</a></p>').format(unsubscribe_url,
                                                                                          unsubscribe_label)
    return str(Markup("<!doctype html>\n<html><body>\n") + html + Markup("\n</body></html>\n"))


def _linkify(line: str) -> Markup:
    words = []
    for word in line.split(" "):
        if word.startswith(("https://", "http://")):
            words.append(Markup('<a href="{0}">{0}</a>').format(word))
        else:
            words.append(escape(word))
    return Markup(" ").join(words)


def find_template(session: Session, event: str, channel: str, language: str) -> MessageTemplate | None:
    return session.scalar(select(MessageTemplate).where(
        MessageTemplate.event == event, MessageTemplate.channel == channel, MessageTemplate.language == language))


def check_template(event: Event, subject: str, body: str, language: str | None = None) -> Rendered:
    """Render a template on the event's sample data; raises TemplateProblem if it cannot be used."""
    return render(event, subject, body, event.sample(), unsubscribe_url=event.sample().get("unsubscribe_url"),
                  language=language)


def unsubscribe_label(language: str | None) -> str:
    """"Unsubscribe" in the message's language (the customer's, not the staff member's on screen)."""
    with in_language(language):
        return _("Unsubscribe")


def render(event: Event, subject: str, body: str, variables: dict, *, unsubscribe_url: str | None,
           language: str | None = None) -> Rendered:
    subject_text = " ".join(render_string(subject, variables).split())[:MAX_SUBJECT]
    text = render_string(body, variables).strip()[:MAX_BODY]
    label = unsubscribe_label(language) if unsubscribe_url else ""
    if unsubscribe_url and unsubscribe_url not in text:
        text += f"\n\n{label}: {unsubscribe_url}"
    return Rendered(subject_text, text, text_to_html(text, unsubscribe_url, label))


def render_message(session: Session, event_code: str, channel: str, language: str, variables: dict, *,
                   default_language: str, unsubscribe_url: str | None) -> Rendered:
    """The message for an event in the customer's language: the manager's template for this channel and
    language, else for the shop's default language, else the shipped English default."""
    event = EVENTS[event_code]
    variables = {**dict.fromkeys(event.all_variables, ""), **variables, "unsubscribe_url": unsubscribe_url or ""}
    for lang in dict.fromkeys([language, default_language]):
        template = find_template(session, event_code, channel, lang)
        if template is not None:
            try:
                return render(event, template.subject, template.body, variables, unsubscribe_url=unsubscribe_url,
                              language=language)
            except TemplateProblem:
                break  # saved before a variable was removed, say: the default still gets the message out
    return render(event, event.subject, event.default_body(channel), variables, unsubscribe_url=unsubscribe_url,
                  language=language)
