"""The shape of the application forms; the service checks every value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField

from fundapp.domain.dates import format_date

METHOD_LABELS = {
    "equal_principal": _l("Gốc chia đều"),
    "annuity": _l("Niên kim (trả đều gốc và lãi)"),
    "bullet": _l("Trả gốc cuối kỳ"),
    "custom": _l("Lịch tự nhập theo mùa vụ"),
}

FREQUENCY_LABELS = {
    1: _l("Hằng tháng"),
    3: _l("Hằng quý (3 tháng)"),
    6: _l("6 tháng một lần"),
    12: _l("Hằng năm (12 tháng)"),
}


def grouped(amount: int | None) -> str:
    """``1.234.567``: how a user types an amount (no currency sign, no locale switch)."""
    return "" if amount is None else f"{amount:,}".replace(",", ".")


def plain_rate(rate: Decimal | str | None) -> str:
    if rate in (None, ""):
        return ""
    return format(Decimal(rate).normalize(), "f")


def custom_lines(schedule: list | None) -> str:
    """The stored ``[["YYYY-MM-DD", amount], …]`` as the lines the officer typed."""
    return "\n".join(
        f"{format_date(date.fromisoformat(day))}; {grouped(int(amount))}"
        for day, amount in schedule or []
    )


class ProjectFields(FlaskForm):
    """The project's figures and terms, as the officer and the cooperative both type them."""

    project_name = StringField(_l("Tên dự án / phương án sản xuất kinh doanh"))
    purpose = StringField(_l("Mục đích sử dụng vốn vay"))
    description = TextAreaField(_l("Mô tả dự án"))
    total_project_cost = StringField(_l("Tổng mức đầu tư (đồng)"))
    own_equity = StringField(_l("Vốn đối ứng của HTX (đồng)"))
    requested_amount = StringField(_l("Số tiền đề nghị vay (đồng)"))
    term_months = StringField(_l("Thời hạn vay (tháng)"))
    principal_method = SelectField(_l("Phương thức trả gốc"), choices=[], validate_choice=False)
    principal_every_months = SelectField(_l("Kỳ trả gốc"), choices=[], validate_choice=False)
    interest_every_months = SelectField(_l("Kỳ trả lãi"), choices=[], validate_choice=False)
    grace_months = StringField(_l("Thời gian ân hạn gốc (tháng)"))
    custom_schedule = TextAreaField(_l("Lịch trả gốc tự nhập"))
    collateral_offered = TextAreaField(_l("Tài sản bảo đảm đề xuất"))

    def fill_term_choices(self) -> None:
        self.principal_method.choices = [(k, str(v)) for k, v in METHOD_LABELS.items()]
        frequencies = [(str(k), str(v)) for k, v in FREQUENCY_LABELS.items()]
        self.principal_every_months.choices = frequencies
        self.interest_every_months.choices = frequencies

    def fill_project(self, app: Any) -> None:
        """A stored draft, the way its author would type it."""
        self.project_name.data = app.project_name
        self.purpose.data = app.purpose
        self.description.data = app.description
        self.total_project_cost.data = grouped(app.total_project_cost)
        self.own_equity.data = grouped(app.own_equity)
        self.requested_amount.data = grouped(app.requested_amount)
        self.term_months.data = str(app.term_months)
        self.principal_method.data = app.principal_method
        self.principal_every_months.data = str(app.principal_every_months)
        self.interest_every_months.data = str(app.interest_every_months)
        self.grace_months.data = str(app.grace_months)
        self.custom_schedule.data = custom_lines(app.custom_schedule)
        self.collateral_offered.data = app.collateral_offered


class ApplicationForm(ProjectFields):
    cooperative_id = SelectField(_l("Hợp tác xã vay vốn"), choices=[], validate_choice=False)
    annual_rate = StringField(_l("Lãi suất trong hạn (%/năm)"))

    def fill_choices(self, cooperatives: list[Any]) -> None:
        self.cooperative_id.choices = [("", "— " + str(_l("Chọn hợp tác xã")) + " —")] + [
            (str(c.id), c.name) for c in cooperatives
        ]
        self.fill_term_choices()

    def fill_from(self, app: Any) -> None:
        self.fill_project(app)
        self.cooperative_id.data = str(app.cooperative_id)
        self.annual_rate.data = plain_rate(app.annual_rate)


class SubmitForm(FlaskForm):
    """Only the CSRF token: the officer confirms the draft is complete."""


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Lý do rút hồ sơ"), id="withdraw_reason")


class AppraiseForm(FlaskForm):
    recommended_amount = StringField(_l("Số tiền đề nghị cho vay (đồng)"))
    note = TextAreaField(_l("Ý kiến thẩm định"), id="appraisal_note")


class ApproveForm(FlaskForm):
    note = TextAreaField(_l("Ý kiến phê duyệt"), id="decision_note")
    override_reason = TextAreaField(_l("Lý do phê duyệt vượt giới hạn"))


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Lý do từ chối"), id="reject_reason")


class UploadForm(FlaskForm):
    file = FileField(_l("Tệp tài liệu"))
