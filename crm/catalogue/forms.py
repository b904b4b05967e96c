"""Forms of the catalogue pages. Field validation only; the rules live in crm.catalogue.service."""

from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from crm.catalogue.service import MAX_MOVEMENT, MAX_REORDER_LEVEL
from crm.forms_common import CrmForm, IntegerField, MoneyField
from crm.locales import lazy_gettext as _l


class ItemForm(CrmForm):
    sku = StringField(_l("SKU"), validators=[DataRequired(), Length(max=40)],
                      render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    category_id = SelectField(_l("Category"), choices=[], validate_choice=True,
                              validators=[DataRequired(message=_l("Choose a category."))])
    price = MoneyField(_l("Price"), validators=[InputRequired()])
    cost = MoneyField(_l("Cost"), validators=[Optional()])
    stock_tracked = BooleanField(_l("Track stock of this item"), default=True)
    reorder_level = IntegerField(_l("Reorder level"), default=0,
                                 validators=[InputRequired(), NumberRange(min=0, max=MAX_REORDER_LEVEL)])
    active = BooleanField(_l("Active (can be sold and used)"), default=True)
    submit = SubmitField(_l("Save item"))


class ReceiveForm(CrmForm):
    quantity = IntegerField(_l("Units received"), validators=[InputRequired(), NumberRange(min=1, max=MAX_MOVEMENT)])
    note = StringField(_l("Note (supplier, invoice)"), validators=[Optional(), Length(max=300)])
    submit = SubmitField(_l("Receive stock"))


class AdjustForm(CrmForm):
    quantity = IntegerField(_l("Change (+ or −)"),
                            validators=[InputRequired(), NumberRange(min=-MAX_MOVEMENT, max=MAX_MOVEMENT)])
    reason = StringField(_l("Reason"), validators=[DataRequired(message=_l("Say why the stock is adjusted.")),
                                                  Length(max=300)])
    submit = SubmitField(_l("Adjust stock"))


class CategoryForm(CrmForm):
    name = StringField(_l("Category name"), validators=[DataRequired(), Length(max=80)])
    submit = SubmitField(_l("Save category"))
