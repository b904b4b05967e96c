"""Forms of the sales pages. Field validation only; the rules live in crm.sales.checkout and refunds."""

from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from crm.forms_common import CrmForm, IntegerField, MoneyField, choices
from crm.locales import lazy_gettext as _l
from crm.sales.checkout import MAX_QUANTITY, payment_method_label


class CustomerPickForm(CrmForm):
    phone = StringField(_l("Customer phone"), validators=[DataRequired(), Length(max=40)],
                        render_kw={"inputmode": "tel", "autocomplete": "off"})
    submit = SubmitField(_l("Attach customer"))


class AddItemForm(CrmForm):
    sku = StringField(_l("SKU or barcode"), validators=[DataRequired(), Length(max=40)],
                      render_kw={"autocomplete": "off"})
    quantity = IntegerField(_l("Quantity"), default=1,
                            validators=[InputRequired(), NumberRange(min=1, max=MAX_QUANTITY)])
    discount = StringField(_l("Discount (amount or %)"), validators=[Optional(), Length(max=12)],
                           render_kw={"autocomplete": "off", "placeholder": "10% / 50.00"})
    submit = SubmitField(_l("Add to bill"))


class LoyaltyForm(CrmForm):
    """Points and a coupon for the bill: sent with GET, so the cart shows the new total before payment."""

    class Meta:
        csrf = False  # a GET that changes nothing

    points = IntegerField(_l("Points to use"), default=0, validators=[Optional(), NumberRange(min=0, max=10_000_000)],
                          render_kw={"inputmode": "numeric", "autocomplete": "off"})
    use_max = BooleanField(_l("Use the most points allowed"))
    coupon = StringField(_l("Coupon or promo code"), validators=[Optional(), Length(max=32)],
                         render_kw={"autocomplete": "off"})
    apply = SubmitField(_l("Apply to the bill"))


class CheckoutForm(CrmForm):
    """One amount field per payment method (split payments), built for the configured methods."""

    key = HiddenField()
    expected_total = HiddenField()
    # The points and coupon applied on the cart page, carried to the payment unchanged.
    loyalty_points = HiddenField()
    loyalty_coupon = HiddenField()
    submit = SubmitField(_l("Take payment"))

    method_fields: list[tuple[str, str]] = []  # (method code, field name)

    def tenders(self) -> list[tuple[str, int]]:
        return [(method, getattr(self, name).data or 0) for method, name in self.method_fields]

    def payment_fields(self):
        return [getattr(self, name) for _method, name in self.method_fields]


def checkout_form_class(methods: list[str]) -> type[CheckoutForm]:
    fields = {}
    method_fields = []
    for index, method in enumerate(methods):
        name = f"pay_{index}"
        label = _l("Cash received") if method == "cash" else payment_method_label(method)
        fields[name] = MoneyField(label, validators=[Optional()])
        method_fields.append((method, name))
    return type("ConfiguredCheckoutForm", (CheckoutForm,), {**fields, "method_fields": method_fields})


class RefundForm(CrmForm):
    """Quantity and back-to-stock per line of the sale, built for the sale's lines."""

    key = HiddenField()
    method = SelectField(_l("Pay back by"), choices=[], validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Refund"))

    line_fields: list[tuple[int, str, str]] = []  # (sale line id, quantity field, restock field)


def refund_form_class(lines, methods: list[str]) -> type[RefundForm]:
    fields = {}
    line_fields = []
    for line in lines:
        left = line.quantity - line.refunded_quantity
        qty, restock = f"qty_{line.id}", f"restock_{line.id}"
        fields[qty] = IntegerField(_l("Units of %(item)s to refund", item=line.description), default=0,
                                   validators=[InputRequired(), NumberRange(min=0, max=left)])
        fields[restock] = BooleanField(_l("Back to stock"), default=line.item_id is not None)
        line_fields.append((line.id, qty, restock))
    form_class = type("SaleRefundForm", (RefundForm,), {**fields, "line_fields": line_fields})
    form_class.method_choices = choices((m, payment_method_label(m)) for m in methods)
    return form_class
