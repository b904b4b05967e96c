"""Templates run in Jinja's sandbox: staff wording can use the variables, never Python internals."""

import pytest

from crm.notifications.events import EVENTS
from crm.notifications.models import MessageTemplate
from crm.notifications.render import TemplateProblem, check_template, render_message, render_string

MALICIOUS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ customer_name.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ config }}",
    "{{ self._TemplateReference__context }}",
    "{{ customer_name.format.__globals__ }}",
    "{{ 'a' * 100000000 }}",
    "{{ 2 ** 100000000 }}",
    "{% for i in range(10**9) %}{% endfor %}",
]


@pytest.mark.parametrize("source", MALICIOUS)
def test_the_sandbox_blocks_a_malicious_template(source):
    with pytest.raises(TemplateProblem):
        render_string(source, {"customer_name": "Olena"})


def test_an_unknown_variable_is_refused_rather_than_left_blank():
    with pytest.raises(TemplateProblem, match="custmer_name"):
        check_template(EVENTS["welcome"], "Hi", "Hello {{ custmer_name }}")


def test_a_syntax_error_is_refused():
    with pytest.raises(TemplateProblem):
        check_template(EVENTS["welcome"], "Hi {{", "Hello")


def test_every_default_template_renders_on_its_sample_data():
    for event in EVENTS.values():
        for channel in ("email", "sms", "telegram"):
            rendered = check_template(event, event.subject, event.default_body(channel))
            assert rendered.subject and rendered.text and "{{" not in rendered.text


def test_the_default_sms_fits_one_text_message_before_the_unsubscribe_link():
    for event in EVENTS.values():
        assert event.sms, event.code
        sample = {**event.sample(), "unsubscribe_url": ""}
        assert len(render_string(event.sms, sample)) <= 160, event.code


def test_the_managers_template_in_the_customers_language_wins(session):
    session.add(MessageTemplate(event="welcome", channel="email", language="uk", subject="Вітаємо, {{ customer_name }}",
                                body="Баланс: {{ points_balance }}"))
    session.flush()
    uk = render_message(session, "welcome", "email", "uk", {"customer_name": "Олена", "points_balance": 7},
                        default_language="en", unsubscribe_url=None)
    en = render_message(session, "welcome", "email", "en",
                        {"customer_name": "Olena", "points_balance": 7, "shop_name": "FixIt"},
                        default_language="en", unsubscribe_url=None)
    assert (uk.subject, uk.text) == ("Вітаємо, Олена", "Баланс: 7")
    assert en.subject == "Welcome to the FixIt loyalty program"


def test_a_template_broken_after_saving_falls_back_to_the_default(session):
    session.add(MessageTemplate(event="welcome", channel="email", language="en", subject="Hi",
                                body="{{ no_such_variable }}"))
    session.flush()
    rendered = render_message(session, "welcome", "email", "en", {"customer_name": "Olena", "points_balance": 7},
                              default_language="en", unsubscribe_url=None)
    assert "welcome to our loyalty program" in rendered.text


def test_html_escapes_what_the_customer_typed_and_links_urls(session):
    rendered = render_message(session, "order_received", "email", "en",
                              {"customer_name": "<script>alert(1)</script>", "tracking_url": "https://shop.example/t/abc"},
                              default_language="en", unsubscribe_url=None)
    assert "<script>" in rendered.text and "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert '<a href="https://shop.example/t/abc">' in rendered.html



def test_the_unsubscribe_line_is_written_in_the_customers_language_not_the_staff_members(ukrainian_app):
    from crm.notifications.render import render

    with ukrainian_app.app_context():
        event = EVENTS["birthday"]
        url = "https://shop.example/u/token"
        uk = render(event, event.subject, "Happy birthday", event.sample(), unsubscribe_url=url, language="uk")
        en = render(event, event.subject, "Happy birthday", event.sample(), unsubscribe_url=url, language="en")
    assert uk.text.endswith("Відписатися: https://shop.example/u/token")
    assert '<a href="https://shop.example/u/token">Відписатися</a>' in uk.html
    assert en.text.endswith("Unsubscribe: https://shop.example/u/token")


def test_translated_variables_read_in_the_customers_language(ukrainian_app):
    """A status or a device type is put in the message in the customer's language; other values as they are."""
    from crm.locales import lazy_text
    from crm.notifications.outbox import translated_variables
    from crm.orders.device import DEVICE_TYPES
    from crm.orders.status import STATUS_LABELS, Status

    variables = {"status": STATUS_LABELS[Status.AWAITING_PARTS],
                 "device": lazy_text(lambda: f"{DEVICE_TYPES['phone']} Apple iPhone 12"), "bonus_points": 50,
                 "customer_name": "Olena"}
    with ukrainian_app.app_context():
        assert translated_variables(variables, "uk") == {
            "status": "Очікує запчастини", "device": "Телефон Apple iPhone 12", "bonus_points": 50,
            "customer_name": "Olena"}
        assert translated_variables(variables, "en")["status"] == "Awaiting parts"


@pytest.mark.parametrize("language", ["ua", "", "x" * 40, "en_ZZ_bad"])
def test_a_language_code_babel_does_not_know_leaves_the_shop_language(app, language):
    from crm.notifications.outbox import translated_variables
    from crm.notifications.render import unsubscribe_label
    from crm.orders.status import STATUS_LABELS, Status

    with app.app_context():
        assert unsubscribe_label(language) == "Unsubscribe"
        assert translated_variables({"status": STATUS_LABELS[Status.READY]}, language) == {"status": "Ready for pickup"}
