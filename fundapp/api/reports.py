"""Report endpoints of the API: ``/reports/<report>`` as JSON, ``.pdf`` and ``.xlsx``.

``fund-balance?as_of=&from=``, ``lending-activity?period=&from=&to=&group_by=``,
``operations?period=&from=&to=``, ``plan-actual?year=&as_of=``,
``classification?quarter=2026-Q3`` and ``par?as_of=``; staff read access only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from flask import jsonify, request

from fundapp.api import bp, report_shapes
from fundapp.api import ranking as ranking_api
from fundapp.api import support as support_api
from fundapp.api.common import api_roles
from fundapp.api.spec import JSON, PDF, XLSX, operation, read_query
from fundapp.core.dates import business_date
from fundapp.core.replica import reads_from_replica
from fundapp.reports.catalogue import REPORTS, ReportSpec, pdf_download, report_json, xlsx_download


class Described(NamedTuple):
    """What the API document says of a report: its name, what it holds, its filters and
    the JSON it answers."""

    name: str
    description: str
    query: Any
    returns: Any


DESCRIBED = {
    "fund-balance": Described(
        "The fund balance report",
        "Sources and uses of the fund's capital from its ledger, outstanding by debt group, "
        "and the lending of the period from `from` (default: 1 January) to `as_of` "
        "(default: the business date).",
        report_shapes.FundBalanceQuery,
        report_shapes.FundBalanceReport,
    ),
    "lending-activity": Described(
        "The lending activity report",
        "Opening and closing outstanding, disbursed, collected, overdue, bad debt and "
        "provisions from `from` to `to`, one line per area, sector, borrower type or "
        "term class (`group_by`); an area is the borrower's current commune, former "
        "district or former province (`by`), and the total is the same whichever.",
        report_shapes.LendingActivityQuery,
        report_shapes.LendingActivityReport,
    ),
    "operations": Described(
        "The summary report of the fund's operations",
        "Sources and uses at the start and the end of the period, the lending of the "
        "period, income and expenses by account and the result, overdue and bad debt and "
        "provisions at the end, all from the ledger; the period is `period` (2026-H1, "
        "2026) or `from` (default: 1 January) to `to` (default: the business date).",
        report_shapes.OperationsQuery,
        report_shapes.OperationsReport,
    ),
    "plan-actual": Described(
        "Plan against actual",
        "Each line of the fund's annual plan of `year` (default: the year of `as_of`) "
        "beside its actual from the ledger from 1 January to `as_of` (default: 31 December "
        "of the year or the business date, whichever is earlier): the difference (actual "
        "− plan) and the percent achieved (null when the plan is 0). Amounts are đồng; "
        "the bad-debt ratio line is in basis points.",
        report_shapes.PlanActualQuery,
        report_shapes.PlanActualReport,
    ),
    "ranking": Described(
        "The A/B/C self-assessment",
        "The fund's four indicators of `year` (default: the year before the business "
        "date) against its plan, from the ledger from 1 January to `as_of` (default: 31 "
        "December, or the business date if earlier): loan growth (outstanding against the "
        "plan and the year before), bad-debt ratio (basis points, against the plan's "
        "ceiling), financial result (income − expenses against the planned result) and "
        "compliance (the director's recorded checklist); each met (2 points), partly met "
        "(1) or not met (0), the rank A/B/C with its reason, the stored record, and the "
        "dissolution warnings of Decree 45/2021 Art. 46. Director, accountant and "
        "controller only.",
        ranking_api.RankingQuery,
        ranking_api.RankingReport,
    ),
    "support-claim": Described(
        "The claim of interest support",
        "Per supported instalment billed (fallen due before the last close of day, or "
        "settled ahead by the borrower) up to `to` (default: the day before the business "
        "date) and not claimed before, for the scheme `scheme` (its code; default: the "
        "first): its in-term interest, the borrower's share, the budget's share, what "
        "earlier claims asked and what this claim asks; with `claim`, the lines of that "
        "submitted claim. Also the budget's receivable from the ledger. Director, "
        "accountant and controller only.",
        support_api.SupportClaimQuery,
        support_api.SupportClaimReport,
    ),
    "classification": Described(
        "The debt classification and provisioning report",
        "Loans by debt group with collateral and specific and general provisions required "
        "and held, as of the last day of `quarter` (default: the last quarter ended).",
        report_shapes.ClassificationQuery,
        report_shapes.ClassificationReport,
    ),
    "par": Described(
        "The portfolio at risk and ageing report",
        "PAR 1, 30 and 90, and outstanding by days past due, as of `as_of` (default: the "
        "business date).",
        report_shapes.ParQuery,
        report_shapes.ParReport,
    ),
    "trial-balance": Described(
        "The trial balance",
        "Per account: the opening balance, the debit and credit turnover from `from` "
        "(default: 1 January) to `to` (default: the business date), and the closing "
        "balance, each balance on its side; the totals of debits and credits are equal.",
        report_shapes.TrialBalanceQuery,
        report_shapes.TrialBalanceReport,
    ),
    "account-ledger": Described(
        "The ledger of one account",
        "The entries on `account` from `from` to `to`, in date order, with the running "
        "balance after each; the opening balance is debit positive.",
        report_shapes.AccountLedgerQuery,
        report_shapes.AccountLedgerReport,
    ),
}

FORMATS: tuple[tuple[str, str, str], ...] = (
    ("", JSON, "JSON"),
    (".pdf", PDF, "PDF"),
    (".xlsx", XLSX, "Excel"),
)


def _json(spec: ReportSpec) -> Any:
    built = spec.built_for(request.args, business_date())
    return jsonify({**report_json(spec, built), "filters": built.filters})


MAKERS: dict[str, Callable[[ReportSpec], Any]] = {
    JSON: _json,
    PDF: pdf_download,
    XLSX: xlsx_download,
}


def _register(spec: ReportSpec) -> None:
    described = DESCRIBED[spec.slug]
    for suffix, content, label in FORMATS:
        endpoint = "report_" + spec.endpoint + suffix.replace(".", "_")

        def view(spec: ReportSpec = spec, content: str = content) -> Any:
            read_query(described.query)
            return MAKERS[content](spec)

        view.__name__ = endpoint
        view.__doc__ = f"{described.name} as {label}.\n\n{described.description}"
        returns = described.returns if content == JSON else bytes
        described_view = operation(query=described.query, returns=returns, content=content)(
            reads_from_replica(view)
        )
        bp.add_url_rule(
            f"/reports/{spec.slug}{suffix}", endpoint, api_roles(*spec.roles)(described_view)
        )


for _spec in REPORTS.values():
    _register(_spec)
