"""The shape of the portal's forms; the services check every value."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import StringField, TextAreaField

from fundapp.lending.application_forms import ProjectFields


class OwnApplicationForm(ProjectFields):
    """A cooperative's application: no borrower to choose (it is the user's own) and no
    rate (the fund's policy sets it)."""

    documents = MultipleFileField(_l("Chọn các tệp tài liệu"))

    def fill_choices(self) -> None:
        self.fill_term_choices()

    def fill_defaults(self) -> None:
        self.principal_every_months.data = "1"
        self.interest_every_months.data = "1"
        self.grace_months.data = "0"

    def fill_from(self, app: Any) -> None:
        self.fill_project(app)


class UploadForm(FlaskForm):
    file = FileField(_l("Tệp tài liệu"))


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Lý do rút hồ sơ"), id="withdraw_reason")


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the button says what it does."""


class ContactForm(FlaskForm):
    phone = StringField(_l("Điện thoại"))
    email = StringField(_l("E-mail"))
    address = StringField(_l("Địa chỉ"))
