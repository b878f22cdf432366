from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from fundapp.areas import services as areas
from fundapp.auth.models import User
from fundapp.cooperatives import services
from fundapp.cooperatives.forms import CooperativeForm, RelatedGroupForm
from fundapp.cooperatives.models import KIND_LABELS, Cooperative, RelatedGroup
from fundapp.core import lists
from fundapp.core.dates import business_date
from fundapp.core.forms import form_data, page_arg, save
from fundapp.core.security import STAFF_READ, Role, roles_required
from fundapp.extensions import db
from fundapp.lending.lifecycle import STATUS_LABELS
from fundapp.work.services import cooperative_summary

bp = Blueprint("cooperatives", __name__, url_prefix="/cooperatives")

EDITORS = (Role.OFFICER,)


def _groups() -> list[RelatedGroup]:
    return list(db.session.scalars(select(RelatedGroup).order_by(RelatedGroup.name)))


COOP_SORTS = {
    "name": (Cooperative.name_key,),
    "kind": (Cooperative.kind, Cooperative.name_key),
    "district": (Cooperative.former_district_code, Cooperative.name_key),
    "sector": (Cooperative.sector, Cooperative.name_key),
    "tax_code": (Cooperative.tax_code,),
}


def coop_columns() -> list[lists.Column]:
    return [
        lists.Column(_("Tên hợp tác xã / thành viên"), width=40),
        lists.Column(_("Loại hình"), width=22),
        lists.Column(_("Xã / phường (hiện nay)"), width=24),
        lists.Column(_("Huyện cũ"), width=18),
        lists.Column(_("Ngành nghề"), width=20),
        lists.Column(_("Người đại diện"), width=22),
        lists.Column(_("Mã số thuế"), width=16),
        lists.Column(_("Điện thoại"), width=14),
    ]


def coop_row(coop: Cooperative) -> tuple[Any, ...]:
    return (
        coop.name,
        str(coop.kind_label),
        coop.commune,
        coop.district_name,
        coop.sector,
        coop.representative,
        coop.tax_code,
        coop.phone,
    )


@bp.route("/")
@roles_required(*STAFF_READ)
def index() -> Any:
    q = request.args.get("q", "")[:100]
    district = request.args.get("district", "")[:3]
    commune = request.args.get("commune", "")[:5]
    sector = request.args.get("sector", "")[:100]
    kind = request.args.get("kind", "")
    districts = areas.former_districts(business_date())
    communes = areas.commune_groups(business_date())
    known = {code for _label, items in communes for code, _name in items}
    query = services.search(
        q,
        district if district in districts else "",
        sector,
        kind,
        commune if commune in known else "",
        business_date(),
    )
    sort = lists.sort_arg(COOP_SORTS, "name")
    query = query.order_by(None).order_by(*lists.order_by(sort, COOP_SORTS, Cooperative.id))
    if lists.wants_xlsx():
        rows = db.session.scalars(query.limit(lists.EXPORT_LIMIT))
        return lists.xlsx_response(
            "hop-tac-xa", _("Hợp tác xã"), coop_columns(), map(coop_row, rows)
        )
    page = db.paginate(
        query, page=page_arg(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    filters = {"q": q, "district": district, "commune": commune, "sector": sector, "kind": kind}
    return render_template(
        "cooperatives/index.html",
        listing=lists.Listing("cooperatives.index", sort, filters),
        page=page,
        q=q,
        district=district,
        commune=commune,
        sector=sector,
        kind=kind,
        districts=districts,
        communes=communes,
        sectors=services.sectors(),
        kinds=KIND_LABELS,
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create() -> Any:
    form = CooperativeForm()
    form.fill_choices(_groups(), areas.commune_groups(business_date()))
    if form.validate_on_submit():
        saved = save(form, lambda: services.create(current_user, form_data(form, services.FIELDS)))
        if saved is not None:
            flash(_("Đã thêm %(name)s.", name=saved.value.name), "success")
            return redirect(url_for(".detail", coop_id=saved.value.id))
    return render_template("cooperatives/form.html", form=form, coop=None)


@bp.route("/<int:coop_id>")
@roles_required(*STAFF_READ)
def detail(coop_id: int) -> Any:
    coop = db.get_or_404(Cooperative, coop_id)
    users = list(db.session.scalars(select(User).where(User.cooperative_id == coop.id)))
    return render_template(
        "cooperatives/detail.html",
        coop=coop,
        users=users,
        summary=cooperative_summary(coop, business_date()),
        status_labels=STATUS_LABELS,
    )


@bp.route("/communes-to-confirm")
@roles_required(*STAFF_READ)
def communes_to_confirm() -> Any:
    """Cooperatives whose commune of today the data cannot settle (a divided commune, one
    that vanished, or none recorded): an officer confirms it by editing the address."""
    rows = services.needing_confirmation(business_date())
    return render_template("cooperatives/to_confirm.html", rows=rows)


@bp.route("/<int:coop_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(coop_id: int) -> Any:
    coop = db.get_or_404(Cooperative, coop_id)
    form = CooperativeForm(obj=coop) if request.method == "GET" else CooperativeForm()
    form.fill_choices(_groups(), areas.commune_groups(business_date()))
    if request.method == "GET":
        form.related_group_id.data = str(coop.related_group_id or "")
    if form.validate_on_submit():
        data = form_data(form, services.FIELDS)
        if save(form, lambda: services.update(current_user, coop, data, confirm=True)) is not None:
            flash(_("Đã lưu thay đổi."), "success")
            return redirect(url_for(".detail", coop_id=coop.id))
    return render_template("cooperatives/form.html", form=form, coop=coop)


@bp.route("/groups")
@roles_required(*STAFF_READ)
def groups() -> Any:
    return _groups_page(RelatedGroupForm())


@bp.route("/groups/new", methods=["POST"])
@roles_required(*EDITORS)
def create_group() -> Any:
    form = RelatedGroupForm()
    if form.validate_on_submit():
        name, note = form.name.data or "", form.note.data or ""
        if save(form, lambda: services.create_group(current_user, name, note)) is not None:
            flash(_("Đã thêm nhóm."), "success")
            return redirect(url_for(".groups"))
    return _groups_page(form), 422


def _groups_page(form: RelatedGroupForm) -> str:
    rows = _groups()
    members = {
        g.id: list(
            db.session.scalars(select(Cooperative).where(Cooperative.related_group_id == g.id))
        )
        for g in rows
    }
    return render_template("cooperatives/groups.html", form=form, groups=rows, members=members)
