"""Catalogue pages: items, categories, stock movements and the low-stock list."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.auth.access import ALL_STAFF, acting_staff, roles_required
from crm.auth.models import Role
from crm.catalogue import bp
from crm.catalogue import service as catalogue
from crm.catalogue.forms import AdjustForm, CategoryForm, ItemForm, ReceiveForm
from crm.catalogue.models import CatalogueItem, ItemCategory
from crm.catalogue.stock import MOVEMENT_LABELS
from crm.extensions import db
from crm.forms_common import choices
from crm.pagination import page_arg


def _item_or_404(item_id: int) -> CatalogueItem:
    return db.one_or_404(select(CatalogueItem).where(CatalogueItem.id == item_id)
                         .options(joinedload(CatalogueItem.category)))


@bp.route("")
@roles_required(*ALL_STAFF)
def index():
    q = request.args.get("q", "")[:100]
    page = page_arg()
    items, has_next = catalogue.search_items(db.session, q, page=page, per_page=current_app.config["PAGE_SIZE"])
    template = "catalogue/_results.html" if request.args.get("partial") else "catalogue/index.html"
    return render_template(template, items=items, q=q, page=page, has_next=has_next)


@bp.route("/low-stock")
@roles_required(Role.MANAGER)
def low_stock():
    page = page_arg()
    items, has_next = catalogue.low_stock_items(db.session, page=page, per_page=current_app.config["PAGE_SIZE"])
    return render_template("catalogue/low_stock.html", items=items, page=page, has_next=has_next)


# --- items ------------------------------------------------------------------------------------------

def _item_form(obj=None) -> ItemForm:
    form = ItemForm(obj=obj)
    form.category_id.choices = choices(
        [("", _("Choose…"))] + [(str(c.id), c.name) for c in catalogue.all_categories(db.session)])
    return form


def _item_data(form: ItemForm) -> catalogue.ItemData:
    return catalogue.ItemData(
        sku=form.sku.data, name=form.name.data, category_id=int(form.category_id.data),
        price_minor=form.price.data, cost_minor=form.cost.data or 0, stock_tracked=form.stock_tracked.data,
        reorder_level=form.reorder_level.data, active=form.active.data,
    )


def _show_error(form, exc: catalogue.CatalogueError, default: str) -> dict:
    field = form._fields.get(exc.field or default) or form._fields[default]
    field.errors = [*field.errors, str(exc.message)]
    return {"duplicate": exc.existing} if isinstance(exc, catalogue.DuplicateSku) else {}


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def new():
    form = _item_form()
    extra = {}
    if form.validate_on_submit():
        try:
            item = catalogue.create_item(db.session, _item_data(form))
        except catalogue.CatalogueError as exc:
            db.session.rollback()
            extra = _show_error(form, exc, "sku")
        else:
            db.session.commit()
            flash(_("%(name)s added to the catalogue.", name=item.name), "success")
            return redirect(url_for("catalogue.detail", item_id=item.id))
    code = 422 if request.method == "POST" else 200
    return render_template("catalogue/form.html", form=form, item=None, **extra), code


@bp.route("/<int:item_id>/edit", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def edit(item_id: int):
    item = _item_or_404(item_id)
    form = _item_form(obj=item)
    if request.method == "GET":
        form.category_id.data = str(item.category_id)
        form.price.data, form.cost.data = item.price_minor, item.cost_minor
    extra = {}
    if form.validate_on_submit():
        try:
            catalogue.update_item(db.session, item, _item_data(form), actor=acting_staff())
        except catalogue.CatalogueError as exc:
            db.session.rollback()
            item = _item_or_404(item_id)  # the rollback expired it; show what is stored
            extra = _show_error(form, exc, "sku")
        else:
            db.session.commit()
            flash(_("%(name)s saved.", name=item.name), "success")
            return redirect(url_for("catalogue.detail", item_id=item.id))
    code = 422 if request.method == "POST" else 200
    return render_template("catalogue/form.html", form=form, item=item, **extra), code


def _render_detail(item: CatalogueItem, *, receive_form=None, adjust_form=None, code=200):
    page = page_arg()
    movements, has_next = catalogue.item_movements(db.session, item.id, page=page,
                                                   per_page=current_app.config["PAGE_SIZE"])
    return render_template(
        "catalogue/detail.html", item=item, movements=movements, page=page, has_next=has_next,
        kinds=MOVEMENT_LABELS, receive_form=receive_form or ReceiveForm(formdata=None),
        adjust_form=adjust_form or AdjustForm(formdata=None),
        can_receive=current_user.has_role(Role.FRONT_DESK), can_manage=current_user.has_role(Role.MANAGER),
        can_open_sales=current_user.has_role(Role.FRONT_DESK),
    ), code


@bp.route("/<int:item_id>")
@roles_required(*ALL_STAFF)
def detail(item_id: int):
    return _render_detail(_item_or_404(item_id))


@bp.route("/<int:item_id>/receive", methods=["POST"])
@roles_required(Role.FRONT_DESK)
def receive(item_id: int):
    item = _item_or_404(item_id)
    form = ReceiveForm()
    if form.validate_on_submit():
        try:
            catalogue.receive_stock(db.session, item, form.quantity.data, actor=acting_staff(),
                                    note=form.note.data or "")
        except catalogue.CatalogueError as exc:
            db.session.rollback()
            _show_error(form, exc, "quantity")
        else:
            db.session.commit()
            flash(_("%(n)d × %(name)s received; %(total)d in stock.", n=form.quantity.data, name=item.name,
                    total=item.on_hand), "success")
            return redirect(url_for("catalogue.detail", item_id=item_id))
    return _render_detail(_item_or_404(item_id), receive_form=form, code=422)


@bp.route("/<int:item_id>/adjust", methods=["POST"])
@roles_required(Role.MANAGER)
def adjust(item_id: int):
    item = _item_or_404(item_id)
    form = AdjustForm()
    if form.validate_on_submit():
        try:
            catalogue.adjust_stock(db.session, item, form.quantity.data, actor=acting_staff(), reason=form.reason.data)
        except catalogue.CatalogueError as exc:
            db.session.rollback()
            _show_error(form, exc, "quantity")
        else:
            db.session.commit()
            flash(_("Stock of %(name)s adjusted; %(total)d in stock.", name=item.name, total=item.on_hand),
                  "success")
            return redirect(url_for("catalogue.detail", item_id=item_id))
    return _render_detail(_item_or_404(item_id), adjust_form=form, code=422)


# --- categories -------------------------------------------------------------------------------------

@bp.route("/categories", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def categories():
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            category = catalogue.create_category(db.session, form.name.data)
        except catalogue.CatalogueError as exc:
            db.session.rollback()
            _show_error(form, exc, "name")
        else:
            db.session.commit()
            flash(_("Category %(name)s added.", name=category.name), "success")
            return redirect(url_for("catalogue.categories"))
    code = 422 if request.method == "POST" else 200
    return render_template("catalogue/categories.html", form=form,
                           categories=catalogue.categories(db.session)), code


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def edit_category(category_id: int):
    category = db.get_or_404(ItemCategory, category_id)
    form = CategoryForm(obj=category)
    if form.validate_on_submit():
        try:
            catalogue.rename_category(db.session, category, form.name.data)
        except catalogue.CatalogueError as exc:
            db.session.rollback()
            category = db.get_or_404(ItemCategory, category_id)
            _show_error(form, exc, "name")
        else:
            db.session.commit()
            flash(_("Category renamed to %(name)s.", name=category.name), "success")
            return redirect(url_for("catalogue.categories"))
    code = 422 if request.method == "POST" else 200
    return render_template("catalogue/category_form.html", form=form, category=category), code
