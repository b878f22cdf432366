"""The fund's minimal chart of accounts (docs/rules.md#posting-and-accounts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from fundapp.domain.accounts import (
    ACCRUED_INTEREST,
    CASH,
    CHARTER_CAPITAL,
    DOUBTFUL_INTEREST_EXPENSE,
    ENTRUSTED_CAPITAL,
    GRANT_CAPITAL,
    INTEREST_INCOME,
    INTEREST_RECEIVABLE,
    LOANS_IN_TERM,
    LOANS_OVERDUE,
    MEMO_CONTRA,
    OTHER_CAPITAL,
    OVERDUE_INTEREST_INCOME,
    PROVISION,
    PROVISION_EXPENSE,
    PROVISION_RELEASE_INCOME,
    SUPPORT_RECEIVABLE,
    SUSPENDED_INTEREST_MEMO,
    WRITTEN_OFF_MEMO,
)


@dataclass(frozen=True)
class Account:
    code: str
    name: Any
    kind: str  # asset | contra_asset | liability | equity | income | expense | memo

    @property
    def debit_normal(self) -> bool:
        return self.kind in {"asset", "expense", "memo_debit"}


ACCOUNTS: dict[str, Account] = {
    a.code: a
    for a in (
        Account(CASH, _l("Tiền gửi ngân hàng, kho bạc"), "asset"),
        Account(LOANS_IN_TERM, _l("Cho vay trong hạn"), "asset"),
        Account(LOANS_OVERDUE, _l("Cho vay quá hạn"), "asset"),
        Account(INTEREST_RECEIVABLE, _l("Lãi phải thu"), "asset"),
        Account(ACCRUED_INTEREST, _l("Lãi dự thu"), "asset"),
        Account(SUPPORT_RECEIVABLE, _l("Phải thu ngân sách hỗ trợ lãi suất"), "asset"),
        Account(PROVISION, _l("Dự phòng rủi ro cho vay"), "contra_asset"),
        Account(ENTRUSTED_CAPITAL, _l("Vốn nhận ủy thác"), "liability"),
        Account(CHARTER_CAPITAL, _l("Vốn điều lệ"), "equity"),
        Account(GRANT_CAPITAL, _l("Vốn tài trợ, viện trợ"), "equity"),
        Account(OTHER_CAPITAL, _l("Vốn khác của Quỹ"), "equity"),
        Account(INTEREST_INCOME, _l("Thu lãi cho vay"), "income"),
        Account(OVERDUE_INTEREST_INCOME, _l("Thu lãi quá hạn"), "income"),
        Account(PROVISION_RELEASE_INCOME, _l("Thu nhập từ hoàn nhập dự phòng"), "income"),
        Account(PROVISION_EXPENSE, _l("Chi phí dự phòng rủi ro"), "expense"),
        Account(
            DOUBTFUL_INTEREST_EXPENSE,
            _l("Chi phí lãi đã ghi thu nhập năm trước không thu được"),
            "expense",
        ),
        Account(WRITTEN_OFF_MEMO, _l("Nợ đã xử lý rủi ro (ngoại bảng)"), "memo_debit"),
        Account(SUSPENDED_INTEREST_MEMO, _l("Lãi treo chưa thu (ngoại bảng)"), "memo_debit"),
        Account(MEMO_CONTRA, _l("Đối ứng ngoại bảng"), "memo_credit"),
    )
}

CAPITAL_ACCOUNT_BY_SOURCE = {
    "charter": CHARTER_CAPITAL,
    "entrusted": ENTRUSTED_CAPITAL,
    "grant": GRANT_CAPITAL,
    "other": OTHER_CAPITAL,
}

SOURCE_LABELS = {
    "charter": _l("Vốn điều lệ (ngân sách tỉnh cấp)"),
    "entrusted": _l("Vốn nhận ủy thác"),
    "grant": _l("Vốn tài trợ, viện trợ"),
    "other": _l("Vốn khác"),
}
