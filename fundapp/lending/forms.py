"""Loan screens: the shape of each action's input. The services do the checking.

Every form on the loan page carries a prefix so its fields have ids of their own (several
forms share names like ``amount`` or ``reason``); the routes read ``form.<name>.data``.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from fundapp.lending.contracts import REPAYMENT_ORDER_LABELS
from fundapp.lending.inspections import FINDINGS

METHOD_LABELS = {
    "bank": _l("Chuyển khoản"),
    "cash": _l("Tiền mặt"),
    "offset": _l("Bù trừ"),
}

KIND_LABELS = {
    "term_adjustment": _l("Điều chỉnh kỳ hạn trả nợ"),
    "extension": _l("Gia hạn nợ"),
}


def values(form: FlaskForm, names: tuple[str, ...]) -> dict[str, Any]:
    """The submitted strings of ``names`` as the services expect them (keys unprefixed)."""
    return {name: getattr(form, name).data or "" for name in names}


class ConfirmForm(FlaskForm):
    """A button only (approve a pending disbursement): the CSRF token and nothing else."""


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Ý kiến, lý do"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Lý do"))


class ContractForm(FlaskForm):
    contract_date = StringField(_l("Ngày ký hợp đồng"))
    repayment_order = SelectField(_l("Thứ tự thu nợ"), choices=[], validate_choice=False)

    def fill_choices(self) -> None:
        self.repayment_order.choices = [(k, _(v)) for k, v in REPAYMENT_ORDER_LABELS.items()]
        if not self.repayment_order.data:
            self.repayment_order.data = "standard"


class DisbursementForm(FlaskForm):
    amount = StringField(_l("Số tiền giải ngân (đồng)"))
    date = StringField(_l("Ngày giải ngân"))
    reference = StringField(_l("Số chứng từ, ủy nhiệm chi"))

    FIELDS = ("amount", "date", "reference")


class RepaymentForm(FlaskForm):
    amount = StringField(_l("Số tiền thu (đồng)"))
    date = StringField(_l("Ngày trả nợ (ngày giá trị)"))
    method = SelectField(_l("Hình thức nộp tiền"), choices=[], validate_choice=False)
    reference = StringField(_l("Số chứng từ, giấy báo có"))

    FIELDS = ("amount", "date", "method", "reference")

    def fill_choices(self) -> None:
        self.method.choices = [(k, str(v)) for k, v in METHOD_LABELS.items()]


class RestructuringForm(FlaskForm):
    kind = SelectField(_l("Hình thức cơ cấu"), choices=[], validate_choice=False)
    effective_date = StringField(_l("Ngày hiệu lực"))
    new_maturity = StringField(_l("Ngày đáo hạn mới"))
    principal_plan = TextAreaField(_l("Lịch trả gốc mới"))
    reason = TextAreaField(_l("Lý do cơ cấu"))

    FIELDS = ("kind", "effective_date", "new_maturity", "principal_plan", "reason")

    def fill_choices(self) -> None:
        self.kind.choices = [(k, str(v)) for k, v in KIND_LABELS.items()]


class CollateralForm(FlaskForm):
    kind = StringField(_l("Loại tài sản bảo đảm"))
    description = TextAreaField(_l("Mô tả tài sản, giấy tờ"))
    valuation = StringField(_l("Giá trị định giá (đồng)"))
    discount_factor = StringField(_l("Hệ số khấu trừ khi trích dự phòng"))

    FIELDS = ("kind", "description", "valuation", "discount_factor")


class InspectionForm(FlaskForm):
    inspected_on = StringField(_l("Ngày kiểm tra"))
    finding = SelectField(_l("Kết quả kiểm tra"), choices=[], validate_choice=False)
    notes = TextAreaField(_l("Nhận xét"))

    FIELDS = ("inspected_on", "finding", "notes")

    def fill_choices(self) -> None:
        self.finding.choices = [("", "—")] + [(k, _(v)) for k, v in FINDINGS.items()]
