"""crm.form_rendering: the same HTML as WTForms' own html_params, and WTForms' messages in the language in use."""

import flask_wtf.i18n
import pytest
import wtforms.widgets
from flask_babel import force_locale
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired
from wtforms.widgets import core

from crm import form_rendering
from crm.form_rendering import WTFORMS_HTML_PARAMS, html_params
from crm.forms_common import CrmForm, choices

KEYS = st.sampled_from(["name", "id", "class_", "for_", "value", "type", "data_live_search", "aria_describedby",
                        "aria-label", "required", "disabled", "inputmode", "autocomplete", "placeholder", "min"])
TEXT = st.lists(st.sampled_from(list("ab ЇіțȘ0\"'<>&;=/\\") + ["&quot;", "&amp;", "\u00a0"]), max_size=8).map("".join)
VALUES = st.one_of(st.booleans(), TEXT, TEXT.map(Markup), st.integers(-10**6, 10**6), st.none())


@given(st.dictionaries(KEYS, VALUES, max_size=8))
def test_html_params_gives_what_wtforms_gives(attributes):
    ours = html_params(**attributes)
    assert isinstance(ours, Markup)
    assert ours == WTFORMS_HTML_PARAMS(**attributes)


class EveryWidget(CrmForm):
    class Meta:
        csrf = False

    name = StringField("Name <b>", validators=[DataRequired()], render_kw={"placeholder": 'a "quoted" one'})
    notes = TextAreaField("Notes")
    kind = SelectField("Kind", choices=choices([("a", "A & B"), ("b", '"B"')]))
    star = RadioField("Stars", choices=choices([("1", "1"), ("2", "2")]))
    agree = BooleanField("Agree")
    count = IntegerField("Count")
    secret = HiddenField()
    send = SubmitField("Send")


def _render(form) -> str:
    return "".join(str(field(class_="form-control", aria_describedby="x-error")) + str(field.label(class_="lbl"))
                   for field in form)


def test_every_widget_renders_as_with_wtforms_own_function(app, monkeypatch):
    with app.test_request_context("/", method="POST", data={"name": '<script>"x"</script>', "notes": "a & b",
                                                            "kind": "b", "star": "2", "agree": "y", "count": "x"}):
        form = EveryWidget()
        form.validate()
        ours = _render(form)
        monkeypatch.setattr(core, "html_params", WTFORMS_HTML_PARAMS)
        monkeypatch.setattr(wtforms.widgets, "html_params", WTFORMS_HTML_PARAMS)
        monkeypatch.setattr(core.Input, "html_params", staticmethod(WTFORMS_HTML_PARAMS))
        monkeypatch.setattr(core.Button, "html_params", staticmethod(WTFORMS_HTML_PARAMS))
        assert _render(form) == ours
    assert "&lt;script&gt;&#34;x&#34;&lt;/script&gt;" in ours and 'placeholder="a &#34;quoted&#34; one"' in ours


def test_the_app_installs_it_for_inputs_buttons_and_the_module():
    form_rendering.install()
    assert core.Input.html_params is html_params and core.Button.html_params is html_params
    assert core.html_params is html_params


@pytest.mark.parametrize("language", ["uk", "ru", "ro", "en"])
def test_wtforms_messages_are_those_flask_wtf_would_give_in_each_language(app, language):
    with app.test_request_context("/"), force_locale(language):
        assert form_rendering.WTFORMS_MESSAGES.gettext("This field is required.") == \
            flask_wtf.i18n.translations.gettext("This field is required.")
        assert form_rendering.WTFORMS_MESSAGES.ngettext(
            "Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 3) \
            == flask_wtf.i18n.translations.ngettext(
                "Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 3)


def test_a_required_field_says_so_in_ukrainian(app):
    class Required(CrmForm):
        class Meta:
            csrf = False

        code = StringField("Code", validators=[InputRequired()])

    with app.test_request_context("/", method="POST", data={"code": ""}), force_locale("uk"):
        form = Required()
        assert not form.validate()
        assert form.code.errors == ["Це поле є обов'язковим."]
