"""PDF documents in a warm process: the fund balance report and a long loan statement.

Targets (issue): the statement of a loan with 60 monthly instalments and 60 repayments in
≤ 0.6 s, the fund balance report at 10 000 loans in ≤ 3 s, each PDF timed in a process that
has already rendered one (fonts, stylesheet, templates loaded): one warm-up, then the
median of ``runs``. Each timing is the whole of what the route does between the request
and the response body: the report's ``build`` plus ``pdf_bytes`` (catalogue, as
/reports/fund-balance.pdf), ``statement_pdf`` (as /loans/<id>/statement.pdf).

The statement's loan is made through the app's services in the benchmark's database (a
cooperative, an application appraised, approved and signed, one disbursement, then each
instalment paid in full five days after its due date), so its statement has the longest
kind of month: the instalment falling due, its overdue transfer the next day, the overdue
interest charged up to the payment, and the payment with its allocation (≈ 4 lines a
month: 241 lines, 13 pages before the statement table was reworked for speed).
"""

from __future__ import annotations

import re
import statistics
import time
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

STATEMENT_TARGET_S = 0.6
FUND_REPORT_TARGET_S = 3.0
FUND_REPORT_AT = 10_000
STATEMENT_INSTALMENTS = 60
PAID_DAYS_LATE = 5
STATEMENT_AMOUNT = 480_000_000  # ≤ 500 million: the director approves it
PASSWORD = "Benchmark2026"  # noqa: S105 (users of the throwaway benchmark database)


@dataclass
class DocumentResult:
    document: str
    size: str
    target_s: float
    runs: list[float] = field(default_factory=list)
    warmup_s: float | None = None
    pages: int | None = None
    kilobytes: int | None = None
    detail: str = ""
    error: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None

    @property
    def met(self) -> bool | None:
        median = self.median
        return None if median is None else median <= self.target_s


def _pages(pdf: bytes) -> int:
    """Page objects, in the PDF's object streams (WeasyPrint compresses them) or not."""
    count = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    for stream in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            count += len(re.findall(rb"/Type\s*/Page(?!s)", zlib.decompress(stream.group(1))))
        except zlib.error:
            continue
    return count


def time_document(
    result: DocumentResult, render: Callable[[], bytes], runs: int, log: Callable[[str], None]
) -> DocumentResult:
    """One warm-up call of ``render``, then ``runs`` timed calls; errors are recorded."""
    try:
        t = time.perf_counter()
        data = render()
        result.warmup_s = time.perf_counter() - t
        result.pages = _pages(data)
        result.kilobytes = round(len(data) / 1024)
        for _ in range(runs):
            t = time.perf_counter()
            render()
            result.runs.append(time.perf_counter() - t)
    except Exception as exc:  # the benchmark reports it and carries on
        result.error = f"{type(exc).__name__}: {exc}"
        log(f"{result.document}: {result.error}\n{traceback.format_exc()}")
    return result


# --- the fund balance report -------------------------------------------------------------------


def fund_report(loans: int, runs: int, log: Callable[[str], None]) -> DocumentResult:
    """The fund balance report PDF of the business date, as the route makes it."""
    from flask import current_app

    from fundapp.core.dates import business_date
    from fundapp.extensions import db
    from fundapp.reports.catalogue import REPORTS, pdf_bytes

    spec = REPORTS["fund-balance"]
    result = DocumentResult(spec.slug + ".pdf", f"{loans:,} loans", FUND_REPORT_TARGET_S)
    parts: dict[str, list[float]] = {"build": [], "render": []}

    def render() -> bytes:
        t = time.perf_counter()
        built = spec.build({}, business_date())
        parts["build"].append(time.perf_counter() - t)
        t = time.perf_counter()
        data = pdf_bytes(spec, built)
        parts["render"].append(time.perf_counter() - t)
        db.session.rollback()  # a request ends its transaction
        return data

    with current_app.test_request_context(f"/reports/{spec.slug}.pdf"):
        time_document(result, render, runs, log)
    if result.runs:
        build = statistics.median(parts["build"][1:])
        pdf = statistics.median(parts["render"][1:])
        result.detail = f"figures {build:.2f} s + PDF {pdf:.2f} s"
    return result


# --- the loan statement ------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLoan:
    loan_id: int
    reader_id: int
    repayments: int
    seconds: float


def _user(username: str, role: str, name: str) -> Any:
    from sqlalchemy import func, select

    from fundapp.auth.models import User
    from fundapp.auth.services import create_user
    from fundapp.extensions import db

    existing = db.session.scalar(select(User).where(func.lower(User.username) == username))
    return existing or create_user(None, username, PASSWORD, [role], full_name=name)


def make_statement_loan(
    business_day: date, instalments: int = STATEMENT_INSTALMENTS
) -> StatementLoan:
    """A loan of ``instalments`` monthly instalments, each paid in full
    ``PAID_DAYS_LATE`` days late, the last one before ``business_day``; commits."""
    from sqlalchemy import func, select

    from fundapp.cooperatives import services as coops
    from fundapp.cooperatives.models import Cooperative
    from fundapp.documents.positions import position_at
    from fundapp.extensions import db
    from fundapp.ledger.services import record_capital
    from fundapp.lending import applications, contracts, disbursements
    from fundapp.lending.limits import cash_available
    from fundapp.repayments.services import record_repayment

    started = time.perf_counter()
    officer = _user("saoke.canbo", "officer", "Cán bộ tín dụng (sao kê)")
    appraiser = _user("saoke.thamdinh", "officer", "Cán bộ thẩm định (sao kê)")
    accountant = _user("saoke.ketoan", "accountant", "Kế toán (sao kê)")
    director = _user("saoke.giamdoc", "director", "Giám đốc (sao kê)")

    # The last instalment falls due a month and a little before the business date.
    last_due = _months_before(business_day - timedelta(days=PAID_DAYS_LATE + 10), 0)
    start = _months_before(last_due, instalments)
    n = int(db.session.scalar(select(func.count(Cooperative.id))) or 0) + 1
    coop = coops.create(
        None,
        {
            "name": f"HTX Nông nghiệp sạch Lục Ngạn (sao kê {n})",
            "kind": "cooperative",
            "registration_no": f"SAOKE{n:06d}",
            "tax_code": f"{8000000000 + n}",
            "commune_code": "07525",  # Phường Chũ (Xã Hồng Giang until 30/06/2025)
            "address": "Thôn Kim 2",
            "sector": "Vải thiều",
            "representative": "Nguyễn Văn Bình",
            "phone": "0912345678",
            "members_count": "42",
            "bank_account": "8888 0000 1234",
            "bank_name": "Agribank chi nhánh Lục Ngạn",
        },
    )
    amount = STATEMENT_AMOUNT
    # Enough charter capital on that date for the cash and the 15 % single-borrower limit.
    if cash_available(start) < amount * 10:
        record_capital(
            None, "charter", amount * 10, start - timedelta(days=1), reference="QĐ-BENCH-SAOKE"
        )
    app = applications.create_application(
        officer,
        {
            "cooperative_id": coop.id,
            "project_name": "Mở rộng vùng trồng vải thiều VietGAP",
            "purpose": "Mua cây giống, phân bón, hệ thống tưới",
            "total_project_cost": amount * 2,
            "own_equity": amount,
            "requested_amount": amount,
            "term_months": instalments,
            "annual_rate": "6.6",
            "principal_method": "equal_principal",
        },
        start,
    )
    applications.submit(officer, app)
    applications.appraise(appraiser, app, amount, "Phương án khả thi", start)
    loan = applications.approve(director, app, "Đồng ý", start)
    contracts.sign_contract(officer, loan, start, start)
    tranche = disbursements.record_disbursement(
        accountant, loan.id, {"amount": amount, "date": start}, start
    )
    disbursements.approve_disbursement(director, tranche.id, start)
    db.session.commit()

    paid = 0
    for k in range(1, instalments + 1):
        day = _months_before(start, -k) + timedelta(days=PAID_DAYS_LATE)
        owed = position_at(loan, day).total_due
        if owed <= 0:
            continue
        record_repayment(accountant, loan.id, {"amount": owed, "date": day, "method": "bank"}, day)
        db.session.commit()
        paid += 1
    return StatementLoan(loan.id, accountant.id, paid, time.perf_counter() - started)


def _months_before(day: date, months: int) -> date:
    """``day`` moved ``months`` months back (forward when negative), on the same day of
    the month (day ≤ 28 here)."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, min(day.day, 28))


def statement(loan: StatementLoan, runs: int, log: Callable[[str], None]) -> DocumentResult:
    """The loan's statement PDF over its whole life, as /loans/<id>/statement.pdf makes it."""
    from flask import current_app

    from fundapp.auth.models import User
    from fundapp.core.dates import business_date
    from fundapp.documents.statement import build_statement, default_start
    from fundapp.extensions import db
    from fundapp.loans.models import Loan
    from fundapp.web.documents import statement_pdf

    result = DocumentResult(
        "statement.pdf (sao kê)",
        f"{STATEMENT_INSTALMENTS} instalments, {loan.repayments} repayments",
        STATEMENT_TARGET_S,
    )

    def render() -> bytes:
        reader = db.session.get(User, loan.reader_id)
        data = statement_pdf(reader, loan.loan_id, {}).get_data()
        db.session.rollback()  # a request ends its transaction
        return data

    def data() -> int:
        row = db.session.get(Loan, loan.loan_id)
        lines = len(build_statement(row, default_start(row), business_date()).lines) if row else 0
        db.session.rollback()
        return lines

    with current_app.test_request_context(f"/loans/{loan.loan_id}/statement.pdf"):
        result.size += f", {data()} lines"
        time_document(result, render, runs, log)
        if result.runs:
            # The statement's figures alone (the replays of the loan), apart from the PDF.
            times = []
            for _ in range(3):
                t = time.perf_counter()
                data()
                times.append(time.perf_counter() - t)
            figures = statistics.median(times)
            result.detail = f"of which the figures (build_statement) {figures:.2f} s"
    return result


def run_documents(
    loans: int, runs: int, log: Callable[[str], None], business_day: date
) -> list[DocumentResult]:
    """Both documents in the current database, whose book of ``loans`` loans has been
    through the close of day: the fund report first, then the statement, whose loan is
    added to the book."""
    from benchmarks.runner import vacuum_analyze
    from fundapp.extensions import db

    # Each timing starts after VACUUM ANALYZE, as the close of day's do, so that the server's
    # autovacuum of the rows just written does not share the two cores with the render.
    vacuum_analyze()
    log(f"documents: the fund balance report PDF at {loans:,} loans")
    report = fund_report(loans, runs, log)
    log(describe(report))
    log(f"documents: a loan of {STATEMENT_INSTALMENTS} monthly instalments and its repayments")
    try:
        made = make_statement_loan(business_day)
    except Exception as exc:  # reported, and the other figures still stand
        db.session.rollback()
        log(f"documents: making the statement's loan failed\n{traceback.format_exc()}")
        failed = DocumentResult("statement.pdf (sao kê)", "—", STATEMENT_TARGET_S)
        failed.error = f"making the loan failed: {type(exc).__name__}: {exc}"
        return [report, failed]
    log(
        f"documents: loan {made.loan_id}, {made.repayments} repayments recorded through "
        f"the services in {made.seconds:.0f} s"
    )
    vacuum_analyze()
    result = statement(made, runs, log)
    log(describe(result))
    return [report, result]


def describe(r: DocumentResult) -> str:
    if r.error:
        return f"{r.document} ({r.size}): not measured — {r.error}"
    runs = ", ".join(f"{x:.2f}" for x in r.runs)
    extra = f"; {r.detail}" if r.detail else ""
    return (
        f"{r.document} ({r.size}): median {r.median:.2f} s of {len(r.runs)} ({runs}), warm-up "
        f"{r.warmup_s:.2f} s, {r.pages} pages, {r.kilobytes} KiB{extra}; target "
        f"≤ {r.target_s:g} s: {'met' if r.met else 'MISSED'}"
    )
