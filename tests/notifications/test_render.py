"""Templates run in Jinja's sandbox: staff wording can use the variables, never Python internals."""

import time

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
            rendered = check_template(event, event.default_subject(), event.default_body(channel))
            assert rendered.subject and rendered.text and "{{" not in rendered.text


def test_the_default_sms_fits_one_text_message_before_the_unsubscribe_link():
    for event in EVENTS.values():
        assert event.sms, event.code
        sample = {**event.sample(), "unsubscribe_url": ""}
        assert len(render_string(event.default_body("sms"), sample)) <= 160, event.code


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


# Each is quick on the preview's sample data (a 15-character name, 340 points) and slow, huge or endless on
# data a real customer can have: the longest name the field allows, a large balance.
FAST_ON_THE_PREVIEW_SLOW_ON_REAL_DATA = {
    "nested loops over a field": "{% for a in customer_name %}{% for b in customer_name %}"
                                 "{% for c in customer_name %}.{% endfor %}{% endfor %}{% endfor %}",
    "a loop as long as a number": "{% for i in range(points_balance) %}{{ customer_name }}{% endfor %}",
    "string multiplication": "{{ customer_name * 600 }}",
    "doubling a string": "{% set ns = namespace(s=customer_name) %}{% for i in range(10) %}"
                         "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
}
SLOW_EVERYWHERE = {
    "nested huge ranges": "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    "a million rounds": "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
    "exponential macro": "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(22) }}",
    "padding": "{{ customer_name.center(10 ** 8) }}",
    "replace amplification": "{{ (customer_name * 100)|replace('', customer_name * 100) }}",
    "replace by keyword": "{{ (customer_name * 100)|replace(old='', new=customer_name * 100) }}",
    "join amplification": "{{ (customer_name * 100).join(customer_name * 100) }}",
    "the format filter": "{{ '%99999999s'|format(customer_name) }}",
    "wide format": "{{ '{:>99999999}'.format(customer_name) }}",
    "width from a field": "{{ '{:>{w}}'.format(customer_name, w=99999999) }}",
    "percent width": "{{ '%99999999s' % customer_name }}",
    "doubling a list": "{% set a = [customer_name] %}{% set b = [a, a, a, a, a, a, a, a, a, a] %}"
                       "{% set c = [b, b, b, b, b, b, b, b, b, b] %}{% set d = [c, c, c, c, c, c, c, c, c, c] %}"
                       "{% set e = [d, d, d, d, d, d, d, d, d, d] %}{{ e }}",
    "doubling a block": "{% set x = customer_name %}" + "{% set x %}{{ x }}{{ x }}{% endset %}" * 30 + "{{ x|length }}",
    "huge integers": "{% set ns = namespace(n=points_balance) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}"
                     "{% endfor %}{{ ns.n > 0 }}",
}


# Saved before templates were bounded: four loops over a 120-character name are 200 million rounds.
HOSTILE_STORED_TEMPLATE = ("{% for a in customer_name %}{% for b in customer_name %}{% for c in customer_name %}"
                           "{% for d in customer_name %}{{ d }}{% endfor %}{% endfor %}{% endfor %}{% endfor %}")


@pytest.mark.parametrize("source", FAST_ON_THE_PREVIEW_SLOW_ON_REAL_DATA.values(),
                         ids=FAST_ON_THE_PREVIEW_SLOW_ON_REAL_DATA.keys())
def test_a_template_too_costly_on_the_longest_values_is_refused_at_save(source):
    event = EVENTS["picked_up"]
    check_template_on_the_preview_only = render_string(source, event.sample())  # what was checked before
    assert check_template_on_the_preview_only
    with pytest.raises(TemplateProblem, match="longest values"):
        check_template(event, "Hi", source)


@pytest.mark.parametrize("source", SLOW_EVERYWHERE.values(), ids=SLOW_EVERYWHERE.keys())
def test_a_template_that_is_costly_anyway_is_refused_quickly(source):
    started = time.monotonic()
    with pytest.raises(TemplateProblem):
        check_template(EVENTS["picked_up"], "Hi", source)
    assert time.monotonic() - started < 1.0


def test_loops_calls_and_filters_a_real_template_uses_still_work():
    source = ("{% macro greet(name) %}Hello {{ name|title }}{% endmacro %}{{ greet(customer_name) }}, "
              "{% for word in device.split() %}{{ word|upper }}{% if not loop.last %}-{% endif %}{% endfor %} "
              "{{ '%s points' % points_balance }} {{ '{} / {}'.format(order_number, total) }} "
              "{{ [shop_name, shop_phone]|join(', ') }} {% for i in range(3) %}*{% endfor %}")
    rendered = check_template(EVENTS["picked_up"], "Hi", source)
    assert rendered.text == ("Hello Olena Kovalenko, PHONE-APPLE-IPHONE-12 340 points R-000123 / 1,250.00 UAH "
                             "Repair Shop, +380 44 123 4567 ***")


def test_a_stored_template_over_the_bounds_falls_back_to_the_default_wording_at_once(session):
    session.add(MessageTemplate(event="welcome", channel="email", language="en", subject="Hi",
                                body=HOSTILE_STORED_TEMPLATE))
    session.flush()
    started = time.monotonic()
    rendered = render_message(session, "welcome", "email", "en",
                              {"customer_name": "Ш" * 120, "points_balance": 7}, default_language="en",
                              unsubscribe_url=None)
    assert time.monotonic() - started < 0.5
    assert "welcome to our loyalty program" in rendered.text
