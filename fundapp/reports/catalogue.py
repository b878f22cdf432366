"""The fund's reports: how each is built from its filters, and the JSON, PDF and Excel of
a built report. The web pages and the API both go through here, so all four outputs carry
the same figures."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response, current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ, Role
from fundapp.documents.pdf import pdf_response, render_pdf
from fundapp.domain.dates import format_date
from fundapp.funds.services import OriginFilter, find
from fundapp.reports import (
    activity,
    aggregates,
    cache,
    classification,
    fund_balance,
    ledger_books,
    operations,
    par,
    params,
    plan_actual,
    ranking,
    support_claim,
)
from fundapp.reports.aggregates import AREA_AND_GROUP, Book
from fundapp.reports.charts import fund_report_charts
from fundapp.reports.excel import TitleBlock, workbook_bytes
from fundapp.reports.tables import Table
from fundapp.reports.trial_balance import account_ledger, trial_balance

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Built:
    """A report built from its filters, with what every output needs."""

    report: Any
    tables: list[Table]
    filters: dict[str, str]
    subtitle: str
    dates: tuple[date, ...]
    date_label: str
    filename: str
    extras: dict[str, Any] = field(default_factory=dict)

    def template_values(self) -> dict[str, Any]:
        """What the report's templates read, the page's and the PDF's alike."""
        return {"built": self, "report": self.report, "tables": self.tables, **self.extras}


@dataclass(frozen=True)
class ReportSpec:
    slug: str
    title: Any
    description: Any
    landscape: bool
    build: Callable[[Mapping[str, str], date], Built]
    roles: tuple[str, ...] = STAFF_READ  # who may read it, on the web and in the API

    @property
    def endpoint(self) -> str:
        return self.slug.replace("-", "_")

    def built_for(self, args: Mapping[str, str], today: date) -> Built:
        """The report for these filters, kept while the book does not change."""
        key = tuple(sorted((str(k), str(v)) for k, v in args.items()))
        return cache.remembered(
            f"report:{self.slug}", key, lambda: _origin_titled(self.build(args, today))
        )

    @property
    def template(self) -> str:
        return f"reports/{self.endpoint}.html"

    @property
    def pdf_template(self) -> str:
        return f"reports/{self.endpoint}_pdf.html"


def _origin_titled(built: Built) -> Built:
    """A report of one origin fund's book names that fund under its title."""
    code = built.filters.get("origin")
    if not code:
        return built
    origin = find(code)
    name = f"{code} – {origin.name}" if origin else code
    return dataclasses.replace(built, subtitle=f"{built.subtitle} · {_('Quỹ gốc')} {name}")


def _with_origin(filters: dict[str, str], origin: OriginFilter) -> dict[str, str]:
    """The filters with ``origin`` when the report is one origin fund's book."""
    return {**filters, "origin": origin.code} if origin.code else filters


def _fund_balance(args: Mapping[str, str], today: date) -> Built:
    as_of = params.as_of(args, today)
    start = params.report_date(args, "from", today, date(as_of.year, 1, 1))
    params.check_order(start, as_of, "from")
    origin = params.origin(args)
    book = aggregates.book(as_of, AREA_AND_GROUP, origin, row_borrowers=False)
    report = fund_balance.build(as_of, start, book, origin)
    return Built(
        report=report,
        tables=fund_balance.tables(report),
        filters=_with_origin({"as_of": as_of.isoformat(), "from": start.isoformat()}, origin),
        subtitle=_("Đến ngày %(d)s", d=format_date(as_of)),
        dates=(as_of,),
        date_label=_("Đến ngày"),
        filename=f"bao-cao-nguon-von-{as_of.isoformat()}",
        extras={"charts": _charts(as_of, book)},
    )


def _charts(as_of: date, book: Book) -> list[tuple[str, Any]]:
    """The dashboard's charts as of the report's date, with their captions, in order."""
    charts = fund_report_charts(as_of, book)
    captions = (
        ("outstanding", _("Dư nợ cho vay cuối mỗi tháng (24 tháng)")),
        ("by_area", _("Dư nợ theo xã, phường (hiện nay)")),
        ("debt_groups", _("Dư nợ theo nhóm nợ")),
        ("collections", _("Thu nợ so với số đến hạn (12 tháng)")),
    )
    return [(caption, charts[key]) for key, caption in captions if key in charts]


def _lending_activity(args: Mapping[str, str], today: date) -> Built:
    period = params.period(args, today)
    group_by = params.group_by(args)
    by = params.area_by(args)
    origin = params.origin(args)
    report = activity.build(period.start, period.end, group_by, by, origin)
    return Built(
        report=report,
        tables=activity.tables(report),
        filters={
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "group_by": group_by,
            "by": by,
            **_with_origin({}, origin),
        },
        subtitle=_(
            "Từ ngày %(f)s đến ngày %(t)s", f=format_date(period.start), t=format_date(period.end)
        ),
        dates=(period.start, period.end),
        date_label=_("Từ ngày – đến ngày"),
        filename=f"hoat-dong-cho-vay-{period.start.isoformat()}-{period.end.isoformat()}",
        extras=_period_extras(today),
    )


def _plan_actual(args: Mapping[str, str], today: date) -> Built:
    year, as_of = plan_actual.filters(args, today)
    report = plan_actual.build(year, as_of)
    return Built(
        report=report,
        tables=plan_actual.tables(report),
        filters={"year": str(year), "as_of": as_of.isoformat()},
        subtitle=_("Năm %(y)s, thực hiện đến ngày %(d)s", y=year, d=format_date(as_of)),
        dates=(as_of,),
        date_label=_("Đến ngày"),
        filename=f"ke-hoach-thuc-hien-{year}-{as_of.isoformat()}",
    )


def _ranking(args: Mapping[str, str], today: date) -> Built:
    year, as_of = ranking.filters(args, today)
    report = ranking.build(year, as_of, today)
    return Built(
        report=report,
        tables=ranking.tables(report),
        filters={"year": str(year), "as_of": as_of.isoformat()},
        subtitle=_("Năm %(y)s, số liệu đến ngày %(d)s", y=year, d=format_date(as_of)),
        dates=(as_of,),
        date_label=_("Đến ngày"),
        filename=f"tu-danh-gia-xep-loai-{year}",
    )


def _support_claim(args: Mapping[str, str], today: date) -> Built:
    chosen, to, reference = support_claim.filters(args, today)
    report = support_claim.build(chosen, to, reference, today)
    filters = {"scheme": chosen.code, "to": report.period_to.isoformat()}
    if reference:
        filters["claim"] = reference
    return Built(
        report=report,
        tables=support_claim.tables(report),
        filters=filters,
        subtitle=support_claim.subtitle(report),
        dates=(report.period_to,),
        date_label=_("Đến ngày"),
        filename=f"de-nghi-cap-bu-ho-tro-lai-suat-{chosen.code.lower()}-{report.period_to}",
    )


def _period_extras(today: date) -> dict[str, Any]:
    """The statutory periods the filter form offers (``params.presets``): choosing one
    fills ``from`` and ``to``, which the form then shows."""
    return {"presets": params.presets(today)}


def _operations(args: Mapping[str, str], today: date) -> Built:
    period = params.period(args, today)
    origin = params.origin(args)
    report = operations.build(period.start, period.end, origin)
    return Built(
        report=report,
        tables=operations.tables(report),
        filters=_with_origin(
            {"from": period.start.isoformat(), "to": period.end.isoformat()}, origin
        ),
        subtitle=_(
            "Từ ngày %(f)s đến ngày %(t)s", f=format_date(period.start), t=format_date(period.end)
        ),
        dates=(period.start, period.end),
        date_label=_("Từ ngày – đến ngày"),
        filename=f"hoat-dong-nghiep-vu-{period.start.isoformat()}-{period.end.isoformat()}",
        extras=_period_extras(today),
    )


def _classification(args: Mapping[str, str], today: date) -> Built:
    quarter = params.quarter(args, today)
    origin = params.origin(args)
    report = classification.build(quarter, origin)
    return Built(
        report=report,
        tables=classification.tables(report),
        filters=_with_origin({"quarter": quarter.code}, origin),
        subtitle=_(
            "Quý %(n)s năm %(y)s – đến ngày %(d)s",
            n=quarter.number,
            y=quarter.year,
            d=format_date(quarter.end),
        ),
        dates=(quarter.end,),
        date_label=_("Đến ngày"),
        filename=f"phan-loai-no-{quarter.code.lower()}",
    )


def _par(args: Mapping[str, str], today: date) -> Built:
    as_of = params.as_of(args, today)
    origin = params.origin(args)
    report = par.build(as_of, origin)
    return Built(
        report=report,
        tables=par.tables(report),
        filters=_with_origin({"as_of": as_of.isoformat()}, origin),
        subtitle=_("Đến ngày %(d)s", d=format_date(as_of)),
        dates=(as_of,),
        date_label=_("Đến ngày"),
        filename=f"par-tuoi-no-{as_of.isoformat()}",
    )


def _trial_balance(args: Mapping[str, str], today: date) -> Built:
    period = params.period(args, today)
    origin = params.origin(args)
    report = trial_balance(period.start, period.end, origin)
    return Built(
        report=report,
        tables=ledger_books.trial_balance_tables(report),
        filters=_with_origin(
            {"from": period.start.isoformat(), "to": period.end.isoformat()}, origin
        ),
        subtitle=ledger_books.period_subtitle(period.start, period.end),
        dates=(period.start, period.end),
        date_label=_("Từ ngày – đến ngày"),
        filename=f"can-doi-tai-khoan-{period.start.isoformat()}-{period.end.isoformat()}",
    )


def _account_ledger(args: Mapping[str, str], today: date) -> Built:
    code = ledger_books.account_arg(args)
    period = params.period(args, today)
    origin = params.origin(args)
    report = account_ledger(code, period.start, period.end, origin)
    return Built(
        report=report,
        tables=ledger_books.account_ledger_tables(report),
        filters=_with_origin(
            {"account": code, "from": period.start.isoformat(), "to": period.end.isoformat()},
            origin,
        ),
        subtitle=f"{code} – {report.name} · "
        + ledger_books.period_subtitle(period.start, period.end),
        dates=(period.start, period.end),
        date_label=_("Từ ngày – đến ngày"),
        filename=f"so-tai-khoan-{code}-{period.start.isoformat()}-{period.end.isoformat()}",
    )


REPORTS: dict[str, ReportSpec] = {
    spec.slug: spec
    for spec in (
        ReportSpec(
            "fund-balance",
            _l("Báo cáo tình hình nguồn vốn và sử dụng vốn"),
            _l(
                "Nguồn vốn, sử dụng vốn, dư nợ theo nhóm nợ và hoạt động cho vay từ đầu năm, "
                "tại một ngày bất kỳ."
            ),
            False,
            _fund_balance,
        ),
        ReportSpec(
            "lending-activity",
            _l("Báo cáo hoạt động cho vay"),
            _l(
                "Dư nợ đầu kỳ, cho vay, thu nợ, dư nợ cuối kỳ, nợ quá hạn, nợ xấu và dự phòng "
                "theo huyện, ngành nghề, đối tượng vay hoặc thời hạn."
            ),
            True,
            _lending_activity,
        ),
        ReportSpec(
            "operations",
            _l("Báo cáo tổng hợp tình hình hoạt động nghiệp vụ"),
            _l(
                "Nguồn vốn và sử dụng vốn đầu kỳ, cuối kỳ, hoạt động cho vay, thu nhập, chi phí "
                "và kết quả trong kỳ, nợ xấu và dự phòng (6 tháng, năm hoặc kỳ bất kỳ)."
            ),
            False,
            _operations,
        ),
        ReportSpec(
            "plan-actual",
            _l("Báo cáo thực hiện kế hoạch năm"),
            _l(
                "Từng chỉ tiêu của kế hoạch năm đã lập: kế hoạch, thực hiện theo sổ kế toán "
                "đến một ngày bất kỳ, chênh lệch và tỷ lệ thực hiện."
            ),
            False,
            _plan_actual,
        ),
        ReportSpec(
            "ranking",
            _l("Tự đánh giá, xếp loại Quỹ (A, B, C)"),
            _l(
                "Bốn chỉ tiêu của năm so với kế hoạch (tăng trưởng dư nợ, tỷ lệ nợ xấu, kết quả "
                "tài chính, chấp hành chế độ), xếp loại A, B, C và cảnh báo trường hợp giải thể "
                "(Nghị định 45/2021/NĐ-CP Điều 46); gửi Liên minh HTX tỉnh trước 31/05."
            ),
            False,
            _ranking,
            (Role.DIRECTOR, Role.ACCOUNTANT, Role.CONTROLLER),
        ),
        ReportSpec(
            "support-claim",
            _l("Đề nghị cấp bù hỗ trợ lãi suất"),
            _l(
                "Bảng kê phần lãi ngân sách hỗ trợ của từng kỳ đến hạn chưa đề nghị cấp bù (hoặc "
                "của một hồ sơ đã gửi) gửi cơ quan cấp bù, và số phải thu ngân sách."
            ),
            True,
            _support_claim,
            (Role.DIRECTOR, Role.ACCOUNTANT, Role.CONTROLLER),
        ),
        ReportSpec(
            "classification",
            _l("Báo cáo phân loại nợ và trích lập dự phòng rủi ro"),
            _l("Theo quý, cho Hội đồng quản lý rủi ro: nhóm nợ, tài sản bảo đảm, dự phòng."),
            True,
            _classification,
        ),
        ReportSpec(
            "par",
            _l("Báo cáo danh mục cho vay có rủi ro (PAR) và tuổi nợ"),
            _l("PAR 1, PAR 30, PAR 90 và dư nợ theo số ngày quá hạn, tại một ngày bất kỳ."),
            False,
            _par,
        ),
        ReportSpec(
            "trial-balance",
            _l("Bảng cân đối tài khoản"),
            _l(
                "Số dư đầu kỳ, phát sinh Nợ, phát sinh Có và số dư cuối kỳ của từng tài khoản "
                "trong một kỳ bất kỳ."
            ),
            True,
            _trial_balance,
        ),
        ReportSpec(
            "account-ledger",
            _l("Sổ chi tiết tài khoản"),
            _l("Các bút toán của một tài khoản trong kỳ, với số dư lũy kế sau từng bút toán."),
            True,
            _account_ledger,
        ),
    )
}


def as_json(value: Any) -> Any:
    """Money stays an integer, ratios and rates become strings, dates ISO strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def report_json(spec: ReportSpec, built: Built) -> dict[str, Any]:
    return {"report": spec.slug, "title": str(spec.title), **as_json(built.report)}


def pdf_bytes(spec: ReportSpec, built: Built) -> bytes:
    return render_pdf(
        spec.pdf_template, spec=spec, landscape=spec.landscape, **built.template_values()
    )


def xlsx_bytes(spec: ReportSpec, built: Built) -> bytes:
    title = TitleBlock(
        fund_name=current_app.config["FUNDAPP_NAME"],
        report_title=str(spec.title),
        date_label=built.date_label,
        dates=built.dates,
    )
    return workbook_bytes(title, built.tables)


def xlsx_response(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype=XLSX_MIMETYPE)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def pdf_download(spec: ReportSpec) -> Response:
    """The report with the request's filters, as a PDF response (the page and the API)."""
    built = spec.built_for(request.args, business_date())
    return pdf_response(pdf_bytes(spec, built), f"{built.filename}.pdf")


def xlsx_download(spec: ReportSpec) -> Response:
    """The report with the request's filters, as an Excel response."""
    built = spec.built_for(request.args, business_date())
    return xlsx_response(xlsx_bytes(spec, built), f"{built.filename}.xlsx")
