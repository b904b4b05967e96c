from datetime import date

from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from crm.forms_common import CrmForm, DateInRange, IntegerField, MoneyField, choices
from crm.locales import lazy_gettext as _l
from crm.orders.device import DEVICE_TYPES, PRIORITIES, REPAIR_KINDS


class OrderForm(CrmForm):
    device_type = SelectField(_l("Device type"), choices=choices(DEVICE_TYPES.items()), default="phone")
    brand = StringField(_l("Brand"), validators=[DataRequired(), Length(max=60)])
    model = StringField(_l("Model"), validators=[DataRequired(), Length(max=80)])
    serial_number = StringField(_l("Serial number"), validators=[Optional(), Length(max=64)])
    imei = StringField(_l("IMEI"), validators=[
        Optional(), Regexp(r"^\d{15}$", message=_l("An IMEI is exactly 15 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off"})
    condition = TextAreaField(_l("Condition on intake"), validators=[Optional(), Length(max=2000)])
    accessories = StringField(_l("Accessories left with the device"), validators=[Optional(), Length(max=500)])
    problem = TextAreaField(_l("Problem as the customer describes it"),
                            validators=[DataRequired(), Length(max=4000)])
    estimate = MoneyField(_l("Estimate"), validators=[Optional()])
    due_date = DateField(_l("Due date"),
                         validators=[Optional(), DateInRange(earliest=date(2000, 1, 1), future_days=3650)])
    priority = SelectField(_l("Priority"), choices=choices(PRIORITIES.items()), coerce=int, default=0)
    technician_id = SelectField(_l("Technician"), choices=[], validate_choice=True)
    warranty_days = IntegerField(_l("Warranty (days)"),
                                 validators=[InputRequired(), NumberRange(min=0, max=3650)], default=90)
    repair_kind = SelectField(_l("Kind of repair"), choices=choices([("", _l("Not known yet")),
                                                                      *REPAIR_KINDS.items()]), default="")
    # Choices are the customer's orders still under warranty (set by the view); the service refuses any other.
    warranty_of_id = SelectField(_l("Warranty return of"), choices=[], validate_choice=False, default="")
    submit = SubmitField(_l("Save order"))


class StatusForm(CrmForm):
    status = SelectField(_l("New status"), choices=[],
                         validators=[DataRequired(message=_l("Choose the new status."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])
    # Only for "awaiting approval": where the customer's approval takes the order.
    on_approval = SelectField(_l("When the customer approves"), default="in_repair", choices=choices(
        [("in_repair", _l("In repair")), ("awaiting_parts", _l("Awaiting parts"))]))
    expected_from = HiddenField()
    submit = SubmitField(_l("Change status"))


class PhoneDecisionForm(CrmForm):
    """The desk records the customer's answer given by phone (or in person)."""
    decision = SelectField(_l("The customer's decision"), choices=choices(
        [("", _l("Choose…")), ("approved", _l("Approved")), ("declined", _l("Declined"))]),
        validators=[DataRequired(message=_l("Choose approved or declined."))])
    note = StringField(_l("What the customer said"),
                       validators=[DataRequired(message=_l("Write down what the customer said.")), Length(max=1000)])
    quote_version = HiddenField()
    submit = SubmitField(_l("Record the decision"))


class LineForm(CrmForm):
    kind = SelectField(_l("Kind"), choices=choices([("labour", _l("Work")), ("part", _l("Part"))]))
    sku = StringField(_l("Catalogue SKU"), validators=[Optional(), Length(max=40)],
                      render_kw={"autocomplete": "off"})
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(), NumberRange(min=1, max=1000)], default=1)
    price = MoneyField(_l("Unit price"), validators=[Optional()])
    submit = SubmitField(_l("Add line"))
    free_labour = False  # set by the view for a warranty return: work without a price is free

    def validate(self, extra_validators=None):
        """Description and price are required unless they come from a catalogue item (a SKU)."""
        valid = super().validate(extra_validators)
        if not (self.sku.data or "").strip():
            if not (self.description.data or "").strip() and not self.description.errors:
                self.description.errors = [*self.description.errors, _l("This field is required.")]
                valid = False
            free = self.free_labour and self.kind.data == "labour"
            if self.price.data is None and not self.price.errors and not free:
                self.price.errors = [*self.price.errors, _l("This field is required.")]
                valid = False
        return valid



def reminder_settings_form_class(kinds) -> type[CrmForm]:
    """The warranty reminder's two fields, then three per kind of repair (``<kind>_enabled``, ``<kind>_months``,
    ``<kind>_coupon``; the coupon choices are set by the view). The labels name no kind: the page shows the kind
    as the row's heading."""
    fields = {
        "warranty_enabled": BooleanField(_l("Send the warranty-ending reminder")),
        "warranty_days_before": IntegerField(_l("Days before the warranty ends"),
                                             validators=[InputRequired(), NumberRange(min=1, max=365)]),
        "submit": SubmitField(_l("Save reminders")),
    }
    for kind in kinds:
        fields[f"{kind}_enabled"] = BooleanField(_l("Check-up reminder on"))
        fields[f"{kind}_months"] = IntegerField(_l("Months after pickup"),
                                                validators=[Optional(), NumberRange(min=1, max=60)])
        fields[f"{kind}_coupon"] = SelectField(_l("Coupon"), choices=[], validate_choice=True)

    def validate(self, extra_validators=None):
        """A kind switched on needs its months."""
        valid = CrmForm.validate(self, extra_validators)
        for kind in kinds:
            months = self[f"{kind}_months"]
            if self[f"{kind}_enabled"].data and months.data is None and not months.errors:
                months.errors = [*months.errors, _l("Say after how many months.")]
                valid = False
        return valid

    return type("ReminderSettingsForm", (CrmForm,), {**fields, "validate": validate})
