"""The fund's reports as of any date: HTML, PDF and Excel from the same figures."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from fundapp.core.dates import business_date
from fundapp.core.replica import reads_from_replica
from fundapp.core.security import STAFF_READ, roles_required
from fundapp.domain.errors import ValidationFailed
from fundapp.funds.services import origins
from fundapp.ledger.accounts import ACCOUNTS
from fundapp.reports.activity import AREA_LABELS, GROUP_LABELS
from fundapp.reports.catalogue import REPORTS, ReportSpec, pdf_download, xlsx_download
from fundapp.reports.params import GROUPINGS
from fundapp.reports.tables import amount_filter, pct_filter

bp = Blueprint("reports", __name__, url_prefix="/reports")
bp.add_app_template_filter(pct_filter, "pct")
bp.add_app_template_filter(amount_filter, "amount")


@bp.route("/")
@roles_required(*STAFF_READ)
def index() -> Any:
    return render_template("reports/index.html", reports=list(REPORTS.values()))


def _page(spec: ReportSpec) -> Any:
    context: dict[str, Any] = {
        "spec": spec,
        "groupings": {g: GROUP_LABELS[g] for g in GROUPINGS},
        "area_groupings": AREA_LABELS,
        "origins": origins(),
        "accounts": ACCOUNTS,
    }
    try:
        built = spec.built_for(request.args, business_date())
    except ValidationFailed as exc:
        values = {
            k: request.args.get(k, "")
            for k in ("as_of", "from", "to", "quarter", "group_by", "by", "origin")
        }
        return render_template(spec.template, built=None, error=exc, values=values, **context), 422
    return render_template(
        spec.template, error=None, values=built.filters, **built.template_values(), **context
    )


def _register(spec: ReportSpec) -> None:
    for suffix, make in (("", _page), (".pdf", pdf_download), (".xlsx", xlsx_download)):
        endpoint = spec.endpoint + suffix.replace(".", "_")

        def view(spec: ReportSpec = spec, make: Any = make) -> Any:
            return make(spec)

        view.__name__ = endpoint
        bp.add_url_rule(
            f"/{spec.slug}{suffix}", endpoint, roles_required(*spec.roles)(reads_from_replica(view))
        )


for _spec in REPORTS.values():
    _register(_spec)
