"""What the API reads and writes, as marshmallow schemas: the OpenAPI document is generated from them (and from
the views' decorators), so the description cannot drift from the code. Amounts are integers in minor units of
the shop's currency; times are UTC ISO 8601."""

from marshmallow import Schema, fields, validate

from crm.api.paging import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT
from crm.numbers import MAX_ID
from crm.orders.status import Status


class PageArgs(Schema):
    cursor = fields.String(load_default=None, validate=validate.Regexp(CURSOR_PATTERN),
                           metadata={"description": "The next_cursor of the previous page (the id of its last row); "
                                                    "none for the first page."})
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT))


class OrderListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    technician_id = fields.Integer(validate=validate.Range(1, MAX_ID))
    updated_since = fields.AwareDateTime(metadata={"description": "Only orders changed at or after this time."})


class SaleListArgs(PageArgs):
    paid_since = fields.AwareDateTime(metadata={"description": "Only sales paid at or after this time."})


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

    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    phone = fields.String(required=True, validate=validate.Length(min=1, max=40),
                          metadata={"description": "As typed; national numbers are read in the shop's region."})
    email = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=254))
    birthday = fields.Date(load_default=None, allow_none=True)
    service_consent = fields.Boolean(load_default=True)
    marketing_consent = fields.Boolean(load_default=False)
    language = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(["en", "uk", "ru", "ro"]))


class CustomerUpdateSchema(Schema):
    """The fields to change (the others stay as they are), checked by the same service as the desk's form."""

    name = fields.String(validate=validate.Length(min=1, max=120))
    phone = fields.String(validate=validate.Length(min=1, max=40))
    email = fields.String(allow_none=True, validate=validate.Length(max=254))
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


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    """The schema of a page of ``item_schema`` rows, named for the OpenAPI document."""
    return Schema.from_dict({"items": fields.List(fields.Nested(item_schema)),
                             "next_cursor": fields.String(allow_none=True)}, name=name)
