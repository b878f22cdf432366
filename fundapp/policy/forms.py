from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField


class PolicyChangeForm(FlaskForm):
    value = StringField(_l("Giá trị mới"))
    effective_from = StringField(_l("Hiệu lực từ ngày"))
    legal_reference = StringField(_l("Căn cứ pháp lý"))
    note = TextAreaField(_l("Lý do thay đổi"))


class PolicyDecisionForm(FlaskForm):
    """Approving (an optional note), rejecting (a required reason) or withdrawing a
    proposed change; each pending change has its own, under its own prefix."""

    note = TextAreaField(_l("Ý kiến, lý do"))
