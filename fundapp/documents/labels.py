"""The words the loan documents print for codes (payment methods, statuses, components).

One dictionary handed to every document template, so the web pages, the API, the notice
e-mails and the ``flask documents previews`` command print the same labels.
"""

from __future__ import annotations

from typing import Any

from fundapp.domain.errors import N_
from fundapp.lending.application_forms import METHOD_LABELS as PRINCIPAL_METHODS
from fundapp.lending.contracts import REPAYMENT_ORDER_LABELS
from fundapp.lending.forms import KIND_LABELS, METHOD_LABELS
from fundapp.lending.lifecycle import STATUS_LABELS

COMPONENT_LABELS = {"penalty": N_("Lãi phạt"), "interest": N_("Lãi"), "principal": N_("Gốc")}
INSTALMENT_STATUS = {
    "paid": N_("Đã trả"),
    "overdue": N_("Quá hạn"),
    "due": N_("Đến hạn"),
    "partial": N_("Trả một phần"),
    "scheduled": N_("Chưa đến hạn"),
}


def labels() -> dict[str, Any]:
    return {
        "payment_methods": METHOD_LABELS,
        "principal_methods": PRINCIPAL_METHODS,
        "restructure_kinds": KIND_LABELS,
        "loan_statuses": STATUS_LABELS,
        "components": COMPONENT_LABELS,
        "instalment_statuses": INSTALMENT_STATUS,
        "repayment_orders": REPAYMENT_ORDER_LABELS,
    }
