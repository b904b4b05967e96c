"""The shop's languages: the template holds every string of the code, each catalogue (uk, ru, ro) translates all
of them with the same placeholders and compiles, and the pages, counts, money and messages read in the language
in use. The catalogues are compiled here into a temporary folder, so these tests do not depend on the install
step having run."""

import re
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import force_locale, ngettext

from crm import create_app
from crm.extensions import db
from tests.conftest import fresh_translations

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "crm" / "translations"
LANGUAGES = ("uk", "ru", "ro")
KEYWORDS = ("-k", "_l", "-k", "_ln:1,2", "-k", "_lp:1c,2")  # the Makefile's BABEL_KEYWORDS
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|\{\{.*?\}\}|\{%.*?%\}")


def _catalogue(path: Path):
    with open(path, "rb") as f:
        return read_po(f)


def _po(language: str):
    return _catalogue(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")


def _keys(catalogue) -> set[tuple[str | None, str]]:
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalogue if m.id}


def test_the_makefile_extracts_with_the_same_keywords():
    assert "BABEL_KEYWORDS := " + " ".join(KEYWORDS) in (ROOT / "Makefile").read_text()


def test_the_template_holds_every_string_of_the_code_and_nothing_else(tmp_path):
    """Extraction is repeatable: what `make messages` would write has exactly the strings committed."""
    fresh = tmp_path / "fresh.pot"
    subprocess.run([str(Path(sys.executable).with_name("pybabel")), "-q", "extract", "-F", "babel.cfg", *KEYWORDS,
                    "-o", str(fresh), "."], cwd=ROOT, check=True)
    committed, extracted = _keys(_catalogue(TRANSLATIONS / "messages.pot")), _keys(_catalogue(fresh))
    assert extracted - committed == set(), "run `make messages` and translate the new strings"
    assert committed - extracted == set(), "strings no longer in the code: run `make messages`"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalogue_translates_every_string_with_the_same_placeholders(language):
    template, catalogue = _catalogue(TRANSLATIONS / "messages.pot"), _po(language)
    assert _keys(template) <= _keys(catalogue), "run `make messages`"
    problems = []
    for message in catalogue:
        if not message.id or (message.context, message.id if isinstance(message.id, str) else message.id[0]) \
                not in _keys(template):
            continue
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        forms = (message.string,) if isinstance(message.string, str) else tuple(message.string)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        if not all(forms):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        allowed = {frozenset(PLACEHOLDER.findall(i)) for i in ids}
        for form in forms:
            # A singular may leave out %(num)d ("one point" as a word), every other placeholder stays.
            found = frozenset(PLACEHOLDER.findall(form))
            if found not in allowed and not (len(ids) > 1 and found | {"%(num)d"} in allowed):
                problems.append(f"placeholders of {ids[0]!r}: {sorted(found)}")
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalogue_compiles_without_errors(language):
    catalogue = _po(language)
    errors = [(message.id, [str(e) for e in errs]) for message, errs in catalogue.check()]
    assert errors == []
    write_mo(BytesIO(), catalogue)
    assert catalogue.num_plurals == 3


@pytest.fixture(scope="module")
def translated(app, tmp_path_factory):
    """An app speaking the real catalogues, compiled into a folder of its own."""
    folder = tmp_path_factory.mktemp("translations")
    for language in LANGUAGES:
        (folder / language / "LC_MESSAGES").mkdir(parents=True)
        with open(folder / language / "LC_MESSAGES" / "messages.mo", "wb") as out:
            write_mo(out, _po(language))
    speaking = create_app("test", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                          BABEL_TRANSLATION_DIRECTORIES=str(folder))
    with fresh_translations():
        yield speaking
    with speaking.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(("language", "forms"), [
    ("uk", ("1 бал", "2 бали", "5 балів", "21 бал")),
    ("ru", ("1 балл", "2 балла", "5 баллов", "21 балл")),
    ("ro", ("1 punct", "2 puncte", "5 puncte", "21 de puncte")),
])
def test_counts_take_the_languages_plural_forms(translated, language, forms):
    with translated.test_request_context(), force_locale(language):
        assert tuple(ngettext("%(num)d point", "%(num)d points", n) for n in (1, 2, 5, 21)) == forms


@pytest.mark.parametrize(("language", "shown", "refund"), [
    ("uk", "1\xa0500,00\xa0₴", "-25,50\xa0₴"), ("ru", "1\xa0500,00\xa0₴", "-25,50\xa0₴"),
    ("ro", "1.500,00\xa0UAH", "-25,50\xa0UAH"), ("en", "UAH1,500.00", "-UAH25.50"),
])
def test_money_is_written_as_the_language_writes_it(translated, language, shown, refund):
    from crm.money import shop_money

    with translated.test_request_context(), force_locale(language):
        assert shop_money(150_000) == shown
        assert shop_money(-2_550) == refund


@pytest.mark.parametrize("typed", ["1 500,50", "1500,50", "1500.50", "1\xa0500,50"])
def test_an_amount_is_read_with_a_decimal_comma_or_point_and_grouping_spaces(typed):
    from crm.money import parse_amount

    assert parse_amount(typed, "UAH") == 150_050


def test_an_amount_that_cannot_be_read_without_guessing_is_refused():
    from crm.money import InvalidAmount, parse_amount

    with pytest.raises(InvalidAmount):
        parse_amount("1.500,50", "UAH")  # grouping dot and decimal comma, or two decimal points?


@pytest.mark.parametrize(("accept", "language", "button"), [
    ("uk-UA,uk;q=0.9,en;q=0.5", "uk", "Log in"), ("ro-MD,ro;q=0.9", "ro", "Log in"), ("de-DE,de", "en", "Log in"),
])
def test_the_login_page_follows_the_browsers_language(translated, accept, language, button):
    page = translated.test_client().get("/login", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'<html lang="{language}"' in page
    with translated.test_request_context(), force_locale(language):
        from flask_babel import gettext

        assert gettext(button) in page


def test_a_customers_default_message_reads_in_their_language(translated):
    from crm.notifications.events import EVENTS
    from crm.notifications.render import render_message

    variables = {**EVENTS["ready_for_pickup"].sample()}
    with translated.app_context():
        rendered = {lang: render_message(db.session, "ready_for_pickup", "email", lang, variables,
                                         default_language="en", unsubscribe_url=None) for lang in ("en", "uk", "ro")}
    assert len({r.text for r in rendered.values()}) == 3
    assert variables["order_number"] in rendered["uk"].text and variables["customer_name"] in rendered["uk"].text
    assert "{{" not in rendered["uk"].text and "{%" not in rendered["ro"].text


def test_a_staff_member_reads_the_interface_in_the_language_they_chose(translated, cheap_password_hashing):
    from flask_babel import gettext

    from tests.conftest import Auth, csrf_token

    client = translated.test_client()
    Auth(translated, client).login("front_desk")
    assert '<html lang="en"' in client.get("/customers").get_data(as_text=True)
    response = client.post("/account/language", data={"language": "uk", "next": "/customers",
                                                      "csrf_token": csrf_token(client, "/customers")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/customers")
    page = client.get("/customers", headers={"Accept-Language": "ro"}).get_data(as_text=True)
    with translated.test_request_context(), force_locale("uk"):
        assert '<html lang="uk"' in page and gettext("Customers") in page and gettext("Log out") in page
        # The navigation's links were first rendered in English for this role: the Ukrainian page has its own.
        links = page[page.index('<ul class="navbar-nav me-auto">'):]
        links = links[:links.index("</ul>")]
        assert gettext("Catalogue") in links and gettext("End of day") in links and "End of day" not in links
    refused = client.post("/account/language", data={"language": "xx", "csrf_token": csrf_token(client, "/customers")})
    assert refused.status_code == 302
    assert '<html lang="uk"' in client.get("/customers").get_data(as_text=True)


def test_a_manager_sets_a_staff_members_language(translated, cheap_password_hashing):
    from sqlalchemy import select

    from crm.auth.models import StaffUser
    from tests import factories
    from tests.conftest import Auth, csrf_token

    client = translated.test_client()
    Auth(translated, client).login("manager")
    with translated.app_context():
        tech = factories.staff(role="technician", username="tech-ro")
        db.session.commit()
        tech_id = tech.id
    token = csrf_token(client, f"/staff/{tech_id}/edit")
    client.post(f"/staff/{tech_id}/edit", data={"full_name": "Ion Tehnician", "role": "technician", "active": "y",
                                               "language": "ro", "csrf_token": token})
    with translated.app_context():
        assert db.session.scalar(select(StaffUser.language).where(StaffUser.id == tech_id)) == "ro"
        db.session.remove()


@pytest.mark.parametrize(("language", "shown"), [("en", "2026-03-29 10:30"), ("uk", "29.03.2026 10:30"),
                                                 ("ru", "29.03.2026 10:30"), ("ro", "29.03.2026 10:30")])
def test_dates_and_times_are_the_shops_clock_written_the_languages_way(app, language, shown):
    """Kyiv moves to summer time at 03:00 on 29 March 2026: 07:30 UTC is 10:30 on the shop's clock, and 00:30
    UTC the day before is 02:30 (winter time)."""
    from datetime import UTC, datetime

    from crm.shop_time import format_local

    with app.app_context():
        assert format_local(datetime(2026, 3, 29, 7, 30, tzinfo=UTC), "datetime", language) == shown
        assert format_local(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "time", language) == "02:30"
        assert format_local(datetime(2026, 3, 28, 22, 30, tzinfo=UTC), "date", language).count("29") == 1


def test_a_day_in_a_message_is_written_in_the_customers_language(translated):
    from datetime import date

    from crm.notifications.outbox import translated_variables
    from crm.shop_time import written_day

    with translated.app_context():
        day = {"expires_on": written_day(date(2027, 1, 31))}
        assert translated_variables(day, "uk") == {"expires_on": "31.01.2027"}
        assert translated_variables(day, "en") == {"expires_on": "2027-01-31"}


def test_a_receipt_prints_in_the_customers_language_or_the_one_chosen_at_print_time(translated,
                                                                                     cheap_password_hashing):
    from flask_babel import gettext

    from crm.orders import service as order_service
    from tests import factories
    from tests.conftest import Auth

    client = translated.test_client()
    Auth(translated, client).login("front_desk")
    with translated.app_context():
        order = factories.order(factories.customer(language="uk"), estimate_minor=150_000)
        order_service.add_line(db.session, order, kind="labour", description="Screen", quantity=1,
                               unit_price_minor=150_000, actor=None)
        db.session.commit()
        order_id = order.id
    printed = client.get(f"/orders/{order_id}/receipt").get_data(as_text=True)
    with translated.test_request_context(), force_locale("uk"):
        title = gettext("Intake receipt %(n)s", n="")
    assert '<html lang="uk"' in printed and title.strip() in printed and "1\xa0500,00\xa0₴" in printed
    english = client.get(f"/orders/{order_id}/receipt?lang=en&size=80mm").get_data(as_text=True)
    assert '<html lang="en"' in english and "UAH1,500.00" in english and "lang=ro" in english
    unknown = client.get(f"/orders/{order_id}/receipt?lang=xx").get_data(as_text=True)
    assert '<html lang="uk"' in unknown


def test_the_active_language_is_get_locales_and_follows_force_locale(app):
    """crm.locales.active_language reads Flask-Babel's kept locale directly: it must always give what get_locale
    would, inside force_locale (a customer's message) and after it."""
    from flask_babel import get_locale

    from crm.locales import active_language
    from crm.money import format_money, shop_money

    assert active_language() == "en"  # outside any app
    with app.test_request_context(headers={"Accept-Language": "ro"}):
        first = active_language()
        assert first == str(get_locale())
        with force_locale("uk"):
            assert active_language() == "uk" == str(get_locale())
            assert shop_money(150_050) == format_money(150_050, app.config["CURRENCY"], "uk")
            with force_locale("ro"):
                assert active_language() == "ro"
            assert active_language() == "uk"
        assert active_language() == first == str(get_locale())
    with app.app_context():
        assert active_language() == str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])


# Constant _('...') calls in templates are compiled as a filter (crm.locales.ConstantGettext); `(_)('...')` is not
# rewritten, so it is Jinja's own newstyle gettext to compare with.
_CONSTANT_TEXTS = ["Orders", "Log out", "100%% sure", "a & b <i>", "Points earned", "Receipt (A4)"]


@pytest.mark.parametrize("language", [*LANGUAGES, "en"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_a_constant_string_in_a_template_reads_as_jinjas_own_gettext_gives_it(translated, language, autoescape):
    env = translated.jinja_env
    with translated.test_request_context(), force_locale(language):
        for text in _CONSTANT_TEXTS:
            ours = env.from_string("{% autoescape " + str(autoescape).lower() + " %}{{ _('" + text + "') }}"
                                   "{% endautoescape %}")
            jinjas = env.from_string("{% autoescape " + str(autoescape).lower() + " %}{{ (_)('" + text + "') }}"
                                     "{% endautoescape %}")
            assert ours.render() == jinjas.render(), text


def test_a_constant_string_is_translated_when_the_page_is_rendered_not_when_the_template_is_compiled(translated):
    template = translated.jinja_env.from_string("{{ _('Orders') }} / {{ _('Log out') }}")
    assert "crm_translated_constant" in translated.jinja_env.compile("{{ _('Orders') }}", raw=True)
    seen = set()
    for language in (*LANGUAGES, "en", "uk"):
        with translated.test_request_context(), force_locale(language):
            seen.add(template.render())
    assert len(seen) == len(LANGUAGES) + 1  # one rendering per language, the same template object throughout
    with translated.test_request_context(), force_locale("en"):
        assert template.render() == "Orders / Log out"


def test_only_a_plain_constant_call_is_rewritten(translated):
    env = translated.jinja_env

    class Holder:
        def _(self, text):
            return "method:" + text

    with translated.test_request_context(), force_locale("en"):
        render = lambda source: env.from_string(source).render(holder=Holder(), wrap=lambda v: f"[{v}]")  # noqa: E731
        assert render("{{ holder._('x') }}") == "method:x"
        assert render("{{ _('Orders').upper() }}|{{ _('Orders')[0] }}|{{ _('Orders')|lower }}") == "ORDERS|O|orders"
        assert render("{{ wrap(_('Orders')) }}{{ _('A') if true else _('B') }}") == "[Orders]A"
        assert render("{{ _('%(n)s orders', n=3) }}") == "3 orders"
        assert render("{% set t = _('Orders') %}{{ t }}{{ [_('A'), _('B')]|join(',') }}") == "OrdersA,B"
