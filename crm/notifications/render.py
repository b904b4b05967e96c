"""Rendering messages from the manager's templates in Jinja's sandbox.

Templates are written by staff, so they run in a bounded ``ImmutableSandboxedEnvironment``
(crm.notifications.sandbox): attribute access to Python internals (``__class__``, ``mro``, ...) raises
SecurityError, the variables are plain strings and numbers, never model objects, and the work, time and
size of a render are bounded. A template that fails, on the sample data or on the longest values the
fields allow, is refused when it is saved; at send time the shipped default is used instead, so a broken
or costly template never loses a message nor slows the request that queues it."""

from dataclasses import dataclass

from flask_babel import gettext as _
from jinja2 import TemplateError
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.locales import in_language
from crm.notifications import sandbox
from crm.notifications.events import EVENTS, LONGEST, MAX_POINTS, Event
from crm.notifications.models import MessageTemplate

MAX_SUBJECT = 300
MAX_BODY = 5000


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
    """Render one template string in the bounded sandbox; any failure becomes a TemplateProblem."""
    try:
        return sandbox.render_bounded(source, variables)
    except sandbox.LimitExceeded as error:
        raise TemplateProblem(limit_reason(error.limit)) from None
    except TemplateError as error:  # SecurityError, UndefinedError and TemplateSyntaxError are TemplateErrors
        raise TemplateProblem(str(error)[:300]) from None
    except (ArithmeticError, TypeError, ValueError, OverflowError, RecursionError) as error:
        raise TemplateProblem(f"{type(error).__name__}: {str(error)[:250]}") from None


def limit_reason(limit: str) -> str:
    """Which bound a template went over, in words for the manager."""
    if limit == "steps":
        return _("it does too much work (more than %(n)d loop rounds, calls and operations).", n=sandbox.MAX_STEPS)
    if limit == "time":
        return _("it takes longer than %(ms)d ms to write.", ms=int(sandbox.TIME_BUDGET * 1000))
    if limit == "output":
        return _("it writes more than %(n)d characters.", n=sandbox.MAX_OUTPUT)
    if limit == "range":
        return _("range() may count at most %(n)d numbers.", n=sandbox.MAX_RANGE)
    if limit == "number":
        return _("widths and counts above %(n)d are not allowed.", n=sandbox.MAX_NUMBER_ARG)
    return _("it makes a text or a list longer than %(n)d characters.", n=sandbox.MAX_VALUE)


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
    """The template rendered on the event's sample data (the preview). Raises TemplateProblem if it cannot
    be used: on the sample data, or on the longest values the fields allow (where a loop over a name or a
    balance shows what it costs on a real customer)."""
    preview = render(event, subject, body, event.sample(), unsubscribe_url=event.sample().get("unsubscribe_url"),
                     language=language)
    try:
        render(event, subject, body, event.longest(), unsubscribe_url=event.longest().get("unsubscribe_url"),
               language=language)
    except TemplateProblem as problem:
        raise TemplateProblem(_("with the longest values a customer's data can have (a name of %(name)d "
                                "characters, a balance of %(points)d points) %(why)s",
                                name=len(LONGEST["customer_name"]), points=MAX_POINTS, why=problem.message)) from None
    return preview


def unsubscribe_label(language: str | None) -> str:
    """"Unsubscribe" in the message's language (the customer's, not the staff member's on screen)."""
    with in_language(language):
        return _("Unsubscribe")


def render(event: Event, subject: str, body: str, variables: dict, *, unsubscribe_url: str | None,
           language: str | None = None) -> Rendered:
    subject_text = " ".join(render_string(str(subject), variables).split())[:MAX_SUBJECT]
    text = render_string(str(body), variables).strip()[:MAX_BODY]
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
    with in_language(language):  # the shipped wording, translated into the customer's language
        subject, body = event.default_subject(), event.default_body(channel)
    return render(event, subject, body, variables, unsubscribe_url=unsubscribe_url, language=language)
