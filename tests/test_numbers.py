"""Whole numbers from requests follow one rule (crm.numbers): ASCII digits, nothing int() or str.isdigit() also
take. Every form's IntegerField and every hand-read id, page or points value goes through it."""

import ast
from pathlib import Path

import pytest

from crm.numbers import MAX_ID, integer, whole_number

CRM = Path(__file__).resolve().parent.parent / "crm"
NOT_ASCII_DIGITS = ["²", "①", "٣", "１２３", "1_000", "1e3", "0x10", "", " ", "+", "-", "1.0", "1 2", "\x00"]


@pytest.mark.parametrize("text", NOT_ASCII_DIGITS + ["-1", "+1", "9" * 19])
def test_a_whole_number_is_ascii_digits_only(text):
    assert whole_number(text) is None


@pytest.mark.parametrize(("text", "number"), [("0", 0), ("7", 7), (" 42 ", 42), ("007", 7), (str(MAX_ID), MAX_ID)])
def test_a_whole_number_reads_ascii_digits(text, number):
    assert whole_number(text) == number


def test_a_whole_number_above_the_maximum_is_none():
    assert whole_number(str(MAX_ID + 1)) is None
    assert whole_number("11", maximum=10) is None and whole_number("10", maximum=10) == 10


@pytest.mark.parametrize(("text", "number"), [("-3", -3), ("+5", 5), (" 12 ", 12), ("0", 0)])
def test_an_integer_may_carry_a_sign(text, number):
    assert integer(text) == number


@pytest.mark.parametrize("text", NOT_ASCII_DIGITS + ["--1", "9" * 19])
def test_an_integer_is_ascii_digits_only(text):
    assert integer(text) is None


def test_an_integer_field_refuses_other_digits_at_the_field(app):
    from werkzeug.datastructures import MultiDict

    from crm.forms_common import CrmForm, IntegerField

    class Form(CrmForm):
        class Meta:
            csrf = False

        quantity = IntegerField()

    with app.test_request_context():
        for text in ["²", "٣", "１２３", "1_000"]:
            form = Form(formdata=MultiDict({"quantity": text}))
            assert not form.validate() and form.quantity.errors and form.quantity.data is None, text
        form = Form(formdata=MultiDict({"quantity": "-12"}))
        assert form.validate() and form.quantity.data == -12


def _calls(tree: ast.AST, names: set[str]) -> list[int]:
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr in names]


def test_no_module_reads_numbers_its_own_way():
    """Forms take IntegerField from crm.forms_common, and no code checks digits with str.isdigit(), isnumeric()
    or isdecimal() to call int() next: crm.numbers says what a number is. The modules listed use isdigit()
    for something else."""
    other_uses = {
        "customers/search.py",  # the digits of a phone-looking search, matched as text
        "customers/phones.py",  # the digits of a number phonenumbers has already parsed
        "orders/queries.py",  # "does it end in a digit", to try an exact order number
        "orders/device.py",  # IMEI check digits, after isascii()
        "notifications/channel_base.py",  # a list index in the configured path of the SMS gateway's answer
    }
    users = set()
    for path in CRM.rglob("*.py"):
        tree = ast.parse(path.read_text())
        name = str(path.relative_to(CRM))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wtforms"):
                assert "IntegerField" not in {alias.name for alias in node.names}, f"{name}: wtforms' IntegerField"
        if _calls(tree, {"isdigit", "isnumeric", "isdecimal"}):
            users.add(name)
    assert users <= other_uses, sorted(users - other_uses)
