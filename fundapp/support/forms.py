"""The forms of interest support; the service checks every value."""

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, TextAreaField

from fundapp.cooperatives.models import KIND_LABELS


class SchemeForm(FlaskForm):
    code = StringField(_l("Mã chương trình"))
    name = StringField(_l("Tên chương trình"))
    legal_basis = StringField(_l("Căn cứ (văn bản)"))
    paying_agency = StringField(_l("Cơ quan cấp bù"))
    share = StringField(_l("Tỷ lệ ngân sách hỗ trợ (% lãi trong hạn)"))
    first_due = StringField(_l("Hỗ trợ các kỳ đến hạn từ ngày"))
    last_due = StringField(_l("Đến ngày (để trống: không hạn)"))
    cap_per_loan = StringField(
        _l("Mức hỗ trợ tối đa mỗi khoản vay (đồng, để trống: không giới hạn)")
    )
    borrower_kinds = SelectMultipleField(
        _l("Đối tượng được hỗ trợ (để trống: tất cả)"), choices=[], validate_choice=False
    )
    purposes = TextAreaField(_l("Lĩnh vực: từ khóa trong mục đích vay, cách nhau dấu phẩy"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.borrower_kinds.choices = [(k.value, str(label)) for k, label in KIND_LABELS.items()]


class EnrolForm(FlaskForm):
    contract_no = StringField(_l("Số hợp đồng tín dụng"))
    first_due = StringField(_l("Hỗ trợ từ kỳ đến hạn ngày (để trống: từ đầu chương trình)"))


class StopForm(FlaskForm):
    last_due = StringField(_l("Hỗ trợ đến kỳ đến hạn ngày"))
    reason = TextAreaField(_l("Lý do dừng hỗ trợ"))


class ClaimForm(FlaskForm):
    period_to = StringField(_l("Đề nghị cấp bù đến ngày"))
    note = TextAreaField(_l("Ghi chú"))


class PaymentForm(FlaskForm):
    paid_on = StringField(_l("Ngày nhận tiền cấp bù"))
    reference = StringField(_l("Số chứng từ (ủy nhiệm chi)"))
