"""Device facts checked at intake."""

from crm.locales import lazy_gettext as _l

DEVICE_TYPES = {
    "phone": _l("Phone"),
    "tablet": _l("Tablet"),
    "laptop": _l("Laptop"),
    "desktop": _l("Desktop computer"),
    "watch": _l("Smart watch"),
    "console": _l("Game console"),
    "headphones": _l("Headphones"),
    "other": _l("Other"),
}

PRIORITIES = {0: _l("Normal"), 1: _l("High"), 2: _l("Urgent")}

# What was repaired, picked on the order form: the check-up reminder's settings are per kind
# (crm.orders.reminders). "" is "not said", and such an order gets no check-up reminder.
REPAIR_KINDS = {
    "screen": _l("Screen"),
    "battery": _l("Battery"),
    "liquid_damage": _l("Liquid damage"),
    "charging_port": _l("Charging port"),
    "software": _l("Software"),
    "other": _l("Other repair"),
}


def imei_is_valid(imei: str) -> bool:
    """15 digits whose last is the Luhn check digit of the first 14 (3GPP TS 23.003)."""
    # isascii(): str.isdigit() also accepts full-width and superscript digits, which are no IMEI.
    if len(imei) != 15 or not imei.isascii() or not imei.isdigit():
        return False
    total = 0
    for index, char in enumerate(imei):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0
