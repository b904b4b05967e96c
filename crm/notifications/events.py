"""The messages the shop sends: for each event its kind (service or marketing), the variables its
templates may use, sample values for the preview, and the default wording in English.

Service messages need the customer's service consent; marketing messages need marketing consent,
wait out the quiet hours and carry an unsubscribe link."""

from dataclasses import dataclass, field

from crm.locales import lazy_gettext as _l

SERVICE, MARKETING = "service", "marketing"

COMMON_VARIABLES = {
    "customer_name": _l("The customer's name"),
    "shop_name": _l("The shop's name"),
    "shop_phone": _l("The shop's phone number"),
}
ORDER_VARIABLES = {
    "order_number": _l("The repair order's number"),
    "device": _l("The device (type, brand, model)"),
    "tracking_url": _l("The customer's private link to the repair's status"),
}
POINTS_VARIABLES = {
    "points_balance": _l("The points balance after the event"),
}
SAMPLE = {
    "customer_name": "Olena Kovalenko", "shop_name": "Repair Shop", "shop_phone": "+380 44 123 4567",
    "order_number": "R-000123", "device": "Phone Apple iPhone 12", "tracking_url": "https://shop.example/t/abc",
    "status": "Awaiting parts", "total": "1,250.00 UAH", "points_earned": 62, "points_balance": 340,
    "tier_name": "Silver", "previous_tier_name": "Bronze", "direction": "up", "bonus_points": 100,
    "years": 2, "points_expiring": 120, "expires_on": "2026-12-31", "referral_code": "K7PQ2M",
    "unsubscribe_url": "https://shop.example/u/token", "confirm_code": "7KQ2M9XD",
    "warranty_ends_on": "2026-12-31", "repair_kind": "Battery", "coupon_code": "PK7QM2X9AB",
    "coupon_expires_on": "2027-01-31",
}



def _text(length: int) -> str:
    """``length`` characters in two-letter words: as many characters and words as the field holds."""
    return ("Шв " * length)[:length]


MAX_POINTS = 2**31 - 1  # an Integer column
# The longest values the fields allow: a template is also tried on these before it is saved, so that one
# quick on the sample but slow on a real customer's data (loops over a long name, a large balance) is refused.
LONGEST = {
    "customer_name": _text(120), "shop_name": _text(120), "shop_phone": "+" + "9" * 19,
    "order_number": _text(32), "device": _text(20 + 1 + 60 + 1 + 80), "tracking_url": "https://" + "w" * 200,
    "status": _text(40), "total": "9" * 16 + ".99 UAH", "points_earned": MAX_POINTS, "points_balance": MAX_POINTS,
    "tier_name": _text(40), "previous_tier_name": _text(40), "direction": "down", "bonus_points": MAX_POINTS,
    "years": 150, "points_expiring": MAX_POINTS, "expires_on": "2099-12-31", "referral_code": _text(16),
    "unsubscribe_url": "https://" + "w" * 300, "confirm_code": "W" * 16,
    "warranty_ends_on": "2099-12-31", "repair_kind": _text(40), "coupon_code": "W" * 32,
    "coupon_expires_on": "2099-12-31",
}


@dataclass(frozen=True)
class Event:
    code: str
    label: object  # a lazy string
    kind: str
    subject: object  # lazy translations: read them through default_subject() / default_body()
    body: object
    variables: dict = field(default_factory=dict)
    sms: object = ""  # the default for SMS, short: a text message is paid per 160 characters

    def default_body(self, channel: str) -> str:
        """The shipped wording for ``channel`` in the active language (the defaults are translations)."""
        return str(self.sms if channel == "sms" and self.sms else self.body)

    def default_subject(self) -> str:
        return str(self.subject)

    @property
    def all_variables(self) -> dict:
        extra = {"unsubscribe_url": _l("One-click unsubscribe link (added to every marketing message)")} \
            if self.kind == MARKETING else {}
        return {**COMMON_VARIABLES, **self.variables, **extra}

    def sample(self) -> dict:
        return {name: SAMPLE[name] for name in self.all_variables}

    def longest(self) -> dict:
        return {name: LONGEST[name] for name in self.all_variables}


EVENTS: dict[str, Event] = {e.code: e for e in [
    Event("order_received", _l("Order received"), SERVICE,
          _l("{{ shop_name }}: repair {{ order_number }} received"),
          _l("Hello {{ customer_name }},\n\nwe have received your {{ device }} for repair (order {{ order_number }}).\n"
          "Follow the repair here: {{ tracking_url }}\n\n{{ shop_name }} {{ shop_phone }}"),
          ORDER_VARIABLES,
          sms=_l("{{ shop_name }}: we received your {{ device }}, order {{ order_number }}. "
                 "Status: {{ tracking_url }}")),
    Event("status_changed", _l("Repair status changed"), SERVICE,
          _l("{{ shop_name }}: repair {{ order_number }} is now {{ status }}"),
          _l("Hello {{ customer_name }},\n\nyour {{ device }} (order {{ order_number }}) is now: {{ status }}.\n"
          "{% if total %}The quote is {{ total }}. Approve or decline it here: {{ tracking_url }}"
          "{% else %}Details: {{ tracking_url }}{% endif %}\n\n{{ shop_name }} {{ shop_phone }}"),
          {**ORDER_VARIABLES, "status": _l("The new status"),
           "total": _l("The quote's total when the repair awaits approval (empty otherwise)")},
          sms=_l("{{ shop_name }}: order {{ order_number }} is now {{ status }}.{% if total %} Quote: {{ total }}."
              "{% endif %} {{ tracking_url }}")),
    Event("ready_for_pickup", _l("Ready for pickup"), SERVICE,
          _l("{{ shop_name }}: your {{ device }} is ready"),
          _l("Hello {{ customer_name }},\n\nyour {{ device }} (order {{ order_number }}) is ready for pickup.\n"
          "Details: {{ tracking_url }}\n\n{{ shop_name }} {{ shop_phone }}"),
          ORDER_VARIABLES,
          sms=_l("{{ shop_name }}: your {{ device }} (order {{ order_number }}) is ready for pickup.")),
    Event("picked_up", _l("Picked up and paid"), SERVICE,
          _l("{{ shop_name }}: thank you"),
          _l("Hello {{ customer_name }},\n\nthank you for picking up your {{ device }} (order {{ order_number }}), "
          "paid {{ total }}.\n{% if points_earned %}You earned {{ points_earned }} points; "
          "your balance is {{ points_balance }} points.\n{% endif %}\n{{ shop_name }} {{ shop_phone }}"),
          {**ORDER_VARIABLES, "total": _l("The amount paid"), "points_earned": _l("Points earned (0 if none)"),
           **POINTS_VARIABLES},
          sms=_l("{{ shop_name }}: thank you!{% if points_earned %} +{{ points_earned }} points, "
              "balance {{ points_balance }}.{% endif %}")),
    Event("tier_changed", _l("Tier changed"), SERVICE,
          _l("{{ shop_name }}: you are now {{ tier_name }}"),
          _l("Hello {{ customer_name }},\n\n{% if direction == 'up' %}congratulations: you have reached"
             " {{ tier_name }}."
          "{% else %}your tier is now {{ tier_name }} (was {{ previous_tier_name }}).{% endif %}\n\n"
          "{{ shop_name }} {{ shop_phone }}"),
          {"tier_name": _l("The new tier"), "previous_tier_name": _l("The previous tier"),
           "direction": _l("'up' or 'down'")},
          sms=_l("{{ shop_name }}: your tier is now {{ tier_name }}.")),
    Event("welcome", _l("Welcome to the program"), SERVICE,
          _l("Welcome to the {{ shop_name }} loyalty program"),
          _l("Hello {{ customer_name }},\n\nwelcome to our loyalty program. Your balance: "
             "{{ points_balance }} points.\n"
          "Your referral code for friends: {{ referral_code }}\n\n{{ shop_name }} {{ shop_phone }}"),
          {**POINTS_VARIABLES, "referral_code": _l("The customer's referral code")},
          sms=_l("{{ shop_name }}: welcome to our loyalty program! Balance: {{ points_balance }} points.")),
    Event("telegram_linked", _l("Telegram linked"), SERVICE,
          _l("{{ shop_name }}: Telegram linked"),
          _l("Hello {{ customer_name }},\n\nthis chat now gets the news of your repairs and points from "
          "{{ shop_name }}.\n\n{{ shop_name }} {{ shop_phone }}"),
          {},
          sms=_l("{{ shop_name }}: Telegram linked.")),
    # To the chat already linked when another chat sends a valid code: that chat is linked only once this one
    # answers "/confirm <code>" (crm.customers.telegram).
    Event("telegram_relink_requested", _l("Telegram: confirm a new chat"), SERVICE,
          _l("{{ shop_name }}: move your messages to another Telegram chat?"),
          _l("Hello {{ customer_name }},\n\nsomeone used the Telegram link of your receipt from another chat. "
          "If it was you, send this here within 24 hours:\n/confirm {{ confirm_code }}\n"
          "If it was not you, ignore this message: this chat keeps getting the messages from {{ shop_name }}.\n\n"
          "{{ shop_name }} {{ shop_phone }}"),
          {"confirm_code": _l("The code the linked chat sends back to confirm")},
          sms=_l("{{ shop_name }}: to move your messages to another Telegram chat, send /confirm {{ confirm_code }} "
              "in this one.")),
    # To the new chat (which may not be the customer's: it only had the receipt), so it names no one.
    Event("telegram_relink_waiting", _l("Telegram: waiting for the linked chat"), SERVICE,
          _l("{{ shop_name }}: Telegram already linked"),
          _l("This account already gets its messages in another Telegram chat, and that chat has been asked to "
          "confirm the change. No longer have it? Ask at the desk of {{ shop_name }} to unlink it, then open the "
          "link they give you.\n\n{{ shop_name }} {{ shop_phone }}"),
          {},
          sms=_l("{{ shop_name }}: Telegram already linked; the linked chat was asked to confirm.")),
    Event("telegram_code_unusable", _l("Telegram: link used or expired"), SERVICE,
          _l("{{ shop_name }}: this Telegram link no longer works"),
          _l("This Telegram link has been used already or has expired. Ask {{ shop_name }} for a new one: the desk "
          "can give it to you.\n\n{{ shop_name }} {{ shop_phone }}"),
          {},
          sms=_l("{{ shop_name }}: this Telegram link was used or has expired; ask the desk for a new one.")),
    # The answer to "/stop" from a linked chat (crm.customers.telegram): marketing consent is off.
    Event("telegram_stopped", _l("Telegram: offers stopped"), SERVICE,
          _l("{{ shop_name }}: no more offers"),
          _l("You will get no more offers or greetings from {{ shop_name }}. News of your repairs still comes to "
          "this chat.\n\n{{ shop_name }} {{ shop_phone }}"),
          {},
          sms=_l("{{ shop_name }}: no more offers; news of your repairs still comes.")),
    Event("birthday", _l("Birthday greeting"), MARKETING,
          _l("Happy birthday from {{ shop_name }}"),
          _l("Happy birthday, {{ customer_name }}!\n\nWe have added {{ bonus_points }} points to your balance "
          "({{ points_balance }} points now).\n\n{{ shop_name }} {{ shop_phone }}"),
          {"bonus_points": _l("The bonus points"), **POINTS_VARIABLES},
          sms=_l("Happy birthday, {{ customer_name }}! {{ shop_name }} added {{ bonus_points }} points.")),
    Event("anniversary", _l("First-visit anniversary"), MARKETING,
          _l("{{ years }} year(s) with {{ shop_name }}"),
          _l("Hello {{ customer_name }},\n\n{{ years }} year(s) ago you first came to us. Thank you! We have added "
          "{{ bonus_points }} points to your balance ({{ points_balance }} points now).\n\n"
          "{{ shop_name }} {{ shop_phone }}"),
          {"years": _l("Years since the first visit"), "bonus_points": _l("The bonus points"), **POINTS_VARIABLES},
          sms=_l("{{ years }} year(s) with {{ shop_name }}: +{{ bonus_points }} points. Thank you!")),
    Event("points_expiring", _l("Points about to expire"), SERVICE,
          _l("{{ shop_name }}: {{ points_expiring }} points expire on {{ expires_on }}"),
          _l("Hello {{ customer_name }},\n\n{{ points_expiring }} of your points expire on {{ expires_on }}. "
          "Your balance: {{ points_balance }} points.\n\n{{ shop_name }} {{ shop_phone }}"),
          {"points_expiring": _l("Points that expire"), "expires_on": _l("The date they expire"),
           **POINTS_VARIABLES},
          sms=_l("{{ shop_name }}: {{ points_expiring }} points expire on {{ expires_on }}.")),
    # The device-lifecycle reminders (crm.orders.reminders): once per order, from the daily jobs.
    Event("warranty_ending", _l("Warranty ending"), SERVICE,
          _l("{{ shop_name }}: the warranty of your {{ device }} ends on {{ warranty_ends_on }}"),
          _l("Hello {{ customer_name }},\n\nthe warranty of the repair of your {{ device }} (order {{ order_number }}) "
          "ends on {{ warranty_ends_on }}. If the fault has come back, bring the device in before then and we will "
          "look at it under the warranty.\nYour repair: {{ tracking_url }}\n\n{{ shop_name }} {{ shop_phone }}"),
          {**ORDER_VARIABLES, "warranty_ends_on": _l("The last day of the repair's warranty")},
          sms=_l("{{ shop_name }}: the warranty on your {{ device }} (order {{ order_number }}) ends on "
              "{{ warranty_ends_on }}. Fault back? Come in before then.")),
    Event("checkup_reminder", _l("Check-up reminder"), MARKETING,
          _l("{{ shop_name }}: time for a check-up of your {{ device }}"),
          _l("Hello {{ customer_name }},\n\nsome time has passed since we repaired your {{ device }} "
          "({{ repair_kind }}, order {{ order_number }}). Come in for a quick check-up: we will see that "
          "everything still works as it should.\n{% if coupon_code %}Your coupon for the visit: {{ coupon_code }} "
          "(valid until {{ coupon_expires_on }}).\n{% endif %}\n{{ shop_name }} {{ shop_phone }}"),
          {**ORDER_VARIABLES, "repair_kind": _l("The kind of repair (battery, screen, ...)"),
           "coupon_code": _l("The personal coupon's code (empty when no coupon is attached)"),
           "coupon_expires_on": _l("The last day the coupon can be used (empty when none)")},
          sms=_l("{{ shop_name }}: time for a check-up of your {{ device }}.{% if coupon_code %} "
              "Coupon: {{ coupon_code }}.{% endif %}")),
    # Some days after pickup (FEEDBACK_REQUEST_DAYS), once per order: crm.feedback.jobs.
    Event("feedback_request", _l("Feedback request"), SERVICE,
          _l("{{ shop_name }}: how was your repair?"),
          _l("Hello {{ customer_name }},\n\nthank you for bringing your {{ device }} to us (order {{ order_number }}). "
          "How did we do? Rate the repair in a few seconds here:\n{{ tracking_url }}\n\n"
          "{{ shop_name }} {{ shop_phone }}"),
          ORDER_VARIABLES,
          sms=_l("{{ shop_name }}: how was repair {{ order_number }}? Rate us: {{ tracking_url }}")),
]}
