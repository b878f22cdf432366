"""Report endpoints of the API: ``/reports/<report>`` as JSON, ``.pdf`` and ``.xlsx``.

``fund-balance?as_of=&from=``, ``lending-activity?from=&to=&group_by=``,
``classification?quarter=2026-Q3`` and ``par?as_of=``; staff read access only.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from fundapp.api import bp
from fundapp.api.common import api_roles
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ
from fundapp.reports.catalogue import REPORTS, ReportSpec, pdf_download, report_json, xlsx_download


def _json(spec: ReportSpec) -> Any:
    built = spec.build(request.args, business_date())
    return jsonify({**report_json(spec, built), "filters": built.filters})


def _register(spec: ReportSpec) -> None:
    for suffix, make in (("", _json), (".pdf", pdf_download), (".xlsx", xlsx_download)):
        endpoint = "report_" + spec.endpoint + suffix.replace(".", "_")

        def view(spec: ReportSpec = spec, make: Any = make) -> Any:
            return make(spec)

        view.__name__ = endpoint
        bp.add_url_rule(f"/reports/{spec.slug}{suffix}", endpoint, api_roles(*STAFF_READ)(view))


for _spec in REPORTS.values():
    _register(_spec)
