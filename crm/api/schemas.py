"""What the API reads and writes, as marshmallow schemas: the OpenAPI document is generated from them (and from
the views' decorators), so the description cannot drift from the code. Amounts are integers in minor units of
the shop's currency; times are UTC ISO 8601."""

from datetime import UTC, date, timedelta

from marshmallow import Schema, ValidationError, fields, validate

from crm.api.paging import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT
from crm.locales import lazy_gettext as _l
from crm.loyalty.ledger import MAX_POINTS
from crm.money import MAX_AMOUNT_MINOR
from crm.numbers import MAX_ID
from crm.orders.device import DEVICE_TYPES, PRIORITIES, REPAIR_KINDS
from crm.orders.status import APPROVAL_TARGETS, Status
from crm.text import CONTROL_CHARACTERS


class Text(fields.String):
    """A string without control characters: the web forms refuse them too (crm.forms_common.CrmForm), and
    PostgreSQL refuses NUL."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if CONTROL_CHARACTERS.search(text):
            raise ValidationError(str(_l("Remove the invisible control characters from this field.")))
        return text


class Moment(fields.AwareDateTime):
    """A time with its offset, within what the database stores (0001-01-01T00:00-14:00 is before year 1 in UTC)."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise self.make_error("invalid", obj_type=self.OBJ_TYPE) from None


def not_blank(value: str) -> None:
    """A required text field of the web forms (DataRequired): spaces alone are not an answer."""
    if not value.strip():
        raise ValidationError(str(_l("This field is required.")))


def due_date_in_range(value: date) -> None:
    """The intake form's due date (crm.orders.forms: DateInRange(2000-01-01, 3650 days ahead))."""
    if value < date(2000, 1, 1):
        raise ValidationError(str(_l("This date is too far in the past.")))
    if value - date.today() > timedelta(days=3650):
        raise ValidationError(str(_l("This date is in the future.")))


def one_of(values, message) -> validate.OneOf:
    """OneOf with a message of the web form's (lazy: marshmallow formats it when it refuses, in the request's
    language)."""
    return validate.OneOf(list(values), error=message)


class PageArgs(Schema):
    cursor = fields.String(load_default=None, validate=validate.Regexp(CURSOR_PATTERN),
                           metadata={"description": "The next_cursor of the previous page (the id of its last row); "
                                                    "none for the first page."})
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT))


class OrderListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    technician_id = fields.Integer(validate=validate.Range(1, MAX_ID))
    updated_since = Moment(metadata={"description": "Only orders changed at or after this time (to sync: the time of "
                                                    "the previous sync, less a minute for changes still being "
                                                    "committed then)."})


class SaleListArgs(PageArgs):
    paid_since = Moment(metadata={"description": "Only sales paid at or after this time."})


class RefundListArgs(PageArgs):
    since = Moment(metadata={"description": "Only refunds made at or after this time."})


class CustomerSearchArgs(PageArgs):
    q = fields.String(load_default="", metadata={
        "description": "Any part of the phone number (digits; spaces, +, (, ), ., / and - are ignored), the name or "
                       "the e-mail, as the desk's search reads it (the first 100 characters). None: every customer."})


class CustomerSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String(metadata={"description": "E.164"})
    email = fields.String(allow_none=True)
    birthday = fields.Date(allow_none=True)
    language = fields.String(allow_none=True)
    service_consent = fields.Boolean()
    marketing_consent = fields.Boolean()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class CustomerCreateSchema(Schema):
    """A new customer, with the consents given at the desk (checked by the same service as the desk's form)."""

    name = Text(required=True, validate=validate.Length(min=1, max=120))
    phone = Text(required=True, validate=validate.Length(min=1, max=40),
                          metadata={"description": "As typed; national numbers are read in the shop's region."})
    email = Text(load_default=None, allow_none=True, validate=validate.Length(max=254))
    birthday = fields.Date(load_default=None, allow_none=True)
    service_consent = fields.Boolean(load_default=True)
    marketing_consent = fields.Boolean(load_default=False)
    language = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(["en", "uk", "ru", "ro"]))


class CustomerUpdateSchema(Schema):
    """The fields to change (the others stay as they are), checked by the same service as the desk's form."""

    name = Text(validate=validate.Length(min=1, max=120))
    phone = Text(validate=validate.Length(min=1, max=40))
    email = Text(allow_none=True, validate=validate.Length(max=254))
    birthday = fields.Date(allow_none=True)
    service_consent = fields.Boolean()
    marketing_consent = fields.Boolean()
    language = fields.String(allow_none=True, validate=validate.OneOf(["en", "uk", "ru", "ro"]))


class LoyaltySchema(Schema):
    member = fields.Boolean()
    balance = fields.Integer(metadata={"description": "Points."})
    point_value_minor = fields.Integer(metadata={"description": "What one point is worth, in minor units."})
    tier = fields.String(allow_none=True)
    next_tier = fields.String(allow_none=True)
    missing_spend_minor = fields.Integer(allow_none=True)
    missing_repairs = fields.Integer(allow_none=True)


class LedgerEntrySchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    points = fields.Integer()
    balance_after = fields.Integer()
    reason = fields.String()
    reference = fields.String()
    expires_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class OrderLineSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    description = fields.String()
    quantity = fields.Integer()
    unit_price_minor = fields.Integer()
    item_id = fields.Integer(allow_none=True)


class OrderSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    customer_id = fields.Integer()
    status = fields.String()
    device_type = fields.String()
    brand = fields.String()
    model = fields.String()
    serial_number = fields.String()
    imei = fields.String()
    problem = fields.String()
    estimate_minor = fields.Integer(allow_none=True)
    due_date = fields.Date(allow_none=True)
    technician_id = fields.Integer(allow_none=True)
    warranty_days = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)


class OrderDetailSchema(OrderSchema):
    lines = fields.List(fields.Nested(OrderLineSchema))


class OrderCreateSchema(Schema):
    """A device taken in for a customer: the intake form's fields, checked by the same service."""

    customer_id = fields.Integer(required=True, validate=validate.Range(1, MAX_ID))
    device_type = fields.String(load_default="phone", validate=one_of(DEVICE_TYPES, _l("Choose a device type.")))
    brand = Text(required=True, validate=[validate.Length(max=60), not_blank])
    model = Text(required=True, validate=[validate.Length(max=80), not_blank])
    serial_number = Text(load_default="", validate=validate.Length(max=64))
    imei = Text(load_default="", validate=validate.Regexp(r"^([0-9]{15})?$",
                                                           error=_l("An IMEI is exactly 15 digits.")))
    condition = Text(load_default="", validate=validate.Length(max=2000))
    accessories = Text(load_default="", validate=validate.Length(max=500))
    problem = Text(required=True, validate=[validate.Length(max=4000), not_blank])
    estimate_minor = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, MAX_AMOUNT_MINOR))
    due_date = fields.Date(load_default=None, allow_none=True, validate=due_date_in_range)
    priority = fields.Integer(load_default=0, validate=one_of(PRIORITIES, _l("Choose a priority.")))
    technician_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, MAX_ID))
    warranty_days = fields.Integer(validate=validate.Range(0, 3650),
                                   metadata={"description": "None: the shop's default (DEFAULT_WARRANTY_DAYS)."})
    repair_kind = fields.String(load_default="", validate=one_of(["", *REPAIR_KINDS],
                                                                  _l("Choose a kind of repair.")))
    warranty_of_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, MAX_ID),
                                    metadata={"description": "The customer's earlier order this one is a warranty "
                                                             "return of."})


class StatusChangeSchema(Schema):
    """A move along the status workflow, with the web page's rules (crm.orders.status)."""

    status = fields.String(required=True, validate=validate.OneOf([s.value for s in Status]))
    note = Text(load_default="", validate=validate.Length(max=1000))
    expected_from = fields.String(load_default=None, allow_none=True,
                                  validate=validate.OneOf([s.value for s in Status]),
                                  metadata={"description": "The status the caller saw: if the order is in another "
                                                           "one now, nothing changes and the answer is 409."})
    on_approval = fields.String(load_default=None, allow_none=True,
                                validate=validate.OneOf([s.value for s in APPROVAL_TARGETS]),
                                metadata={"description": "For awaiting_approval: where an approved quote takes the "
                                                         "order (in_repair when not given)."})


class OrderLineCreateSchema(Schema):
    """Work done or a part used; a part from the catalogue by its SKU takes its name, price and stock."""

    kind = fields.String(required=True, validate=validate.OneOf(["labour", "part"]))
    sku = Text(load_default="", validate=validate.Length(max=40))
    description = Text(load_default="", validate=validate.Length(max=200))
    quantity = fields.Integer(load_default=1, validate=validate.Range(1, 1000))
    unit_price_minor = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, MAX_AMOUNT_MINOR))


class PointsAdjustmentSchema(Schema):
    """A manager's correction of a balance, with the customer page's rules (crm.loyalty.accounts)."""

    points = fields.Integer(required=True, validate=validate.Range(-MAX_POINTS, MAX_POINTS),
                            metadata={"description": "Points to add (positive) or take away (negative)."})
    reason = Text(required=True, validate=validate.Length(max=500))


class ItemSchema(Schema):
    id = fields.Integer()
    sku = fields.String()
    name = fields.String()
    category_id = fields.Integer()
    price_minor = fields.Integer()
    stock_tracked = fields.Boolean()
    on_hand = fields.Integer()
    active = fields.Boolean()
    updated_at = fields.AwareDateTime()


class SaleSchema(Schema):
    id = fields.Integer()
    number = fields.String(allow_none=True)
    status = fields.String()
    customer_id = fields.Integer(allow_none=True)
    repair_order_id = fields.Integer(allow_none=True)
    subtotal_minor = fields.Integer()
    discount_minor = fields.Integer()
    total_minor = fields.Integer()
    paid_at = fields.AwareDateTime(allow_none=True)
    points_redeemed = fields.Integer()
    points_earned = fields.Integer()


class SaleLineSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    item_id = fields.Integer(allow_none=True)
    category_code = fields.String()
    description = fields.String()
    quantity = fields.Integer()
    unit_price_minor = fields.Integer()
    discount_minor = fields.Integer(metadata={"description": "The desk's discount on the line."})
    adjustment_minor = fields.Integer(metadata={"description": "The line's share of the bill's points and coupon."})
    total_minor = fields.Integer(metadata={"description": "What the customer paid for the line."})
    points_spent = fields.Integer()
    points_earned = fields.Integer()
    refunded_quantity = fields.Integer()
    refunded_minor = fields.Integer()


class PaymentSchema(Schema):
    id = fields.Integer()
    method = fields.String()
    amount_minor = fields.Integer()
    tendered_minor = fields.Integer()
    taken_at = fields.AwareDateTime()


class SaleDetailSchema(SaleSchema):
    paid_minor = fields.Integer()
    change_minor = fields.Integer()
    coupon_code = fields.String(allow_none=True)
    points_balance_after = fields.Integer(allow_none=True)
    lines = fields.List(fields.Nested(SaleLineSchema))
    payments = fields.List(fields.Nested(PaymentSchema))
    refunds = fields.List(fields.Nested(lambda: RefundSchema()))


class RefundLineSchema(Schema):
    id = fields.Integer()
    sale_line_id = fields.Integer()
    quantity = fields.Integer()
    amount_minor = fields.Integer()
    restocked = fields.Boolean()


class RefundSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    sale_id = fields.Integer()
    method = fields.String()
    reason = fields.String()
    amount_minor = fields.Integer(metadata={"description": "Paid back: the lines' amounts minus points_kept_minor."})
    points_restored = fields.Integer(metadata={"description": "Points spent on the units, given back."})
    points_reversed = fields.Integer(metadata={"description": "Points the units earned, taken back."})
    points_shortfall = fields.Integer(metadata={"description": "Earned points already spent, not taken back."})
    points_kept_minor = fields.Integer(metadata={"description": "Their value, kept from the money."})
    created_at = fields.AwareDateTime()
    lines = fields.List(fields.Nested(RefundLineSchema))


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    """The schema of a page of ``item_schema`` rows, named for the OpenAPI document."""
    return Schema.from_dict({"items": fields.List(fields.Nested(item_schema)),
                             "next_cursor": fields.String(allow_none=True)}, name=name)
