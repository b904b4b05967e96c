"""An IMEI is 15 digits whose last one is the Luhn check digit of the first 14 (3GPP TS 23.003)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.orders import service
from crm.orders.device import imei_is_valid
from crm.orders.service import OrderError

VALID = "490154203237518"


@pytest.mark.parametrize("imei", [VALID, "356938035643809", "352099001761481", "000000000000000"])
def test_imei_with_correct_check_digit_is_valid(imei):
    assert imei_is_valid(imei)


@pytest.mark.parametrize(
    "imei",
    [
        "490154203237519",  # wrong check digit
        "490154203237517",
        "940154203237518",  # two digits swapped: Luhn catches it
        "49015420323751",  # 14 digits
        "4901542032375180",  # 16 digits
        "",
        "49015420323751a",
        "490154-20323751",
        " 49015420323751",
        "４９０１５４２０３２３７５１８",  # full-width digits: str.isdigit() says yes, an IMEI says no
        "49015420323751²",  # isdigit() is True for superscripts, and int() cannot read them
    ],
)
def test_anything_else_is_not_a_valid_imei(imei):
    assert imei_is_valid(imei) is False


@given(st.text(alphabet="0123456789", min_size=14, max_size=14))
def test_exactly_one_check_digit_completes_any_fourteen_digits(first14):
    assert sum(imei_is_valid(first14 + d) for d in "0123456789") == 1


@given(st.text(max_size=20))
def test_imei_check_never_crashes(text):
    assert imei_is_valid(text) in (True, False)


def phone_data(imei: str) -> service.OrderData:
    return service.OrderData(device_type="phone", brand="Apple", model="iPhone 12", problem="No sound", imei=imei)


def test_intake_refuses_a_wrong_imei_on_the_imei_field(session, make):
    customer = make.customer()
    with pytest.raises(OrderError) as caught:
        service.create_order(session, customer, phone_data("490154203237519"), created_by=None, number_prefix="R-")
    assert caught.value.field == "imei"
    assert "IMEI" in str(caught.value.message)


def test_intake_stores_a_valid_imei_without_surrounding_spaces(session, make):
    order = service.create_order(session, make.customer(), phone_data(f"  {VALID} "), created_by=None,
                                 number_prefix="R-")
    assert order.imei == VALID


def test_imei_is_optional(session, make):
    assert make.order(imei="").imei == ""
