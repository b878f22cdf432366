"""The codes of the fund's chart of accounts: what the posting rule posts to
(docs/rules.md#posting-and-accounts).

Pure data, so the posting rule (``domain.posting``) and the accrual can name an account
without the ledger. The names, kinds and the ledger's own tables stay in
``fundapp.ledger.accounts``, which builds the chart from these codes.
"""

from __future__ import annotations

CASH = "1121"
LOANS_IN_TERM = "2111"
LOANS_OVERDUE = "2112"
INTEREST_RECEIVABLE = "3941"
# Accrued interest (lãi dự thu) of group-1 loans, recognised at each month end for the
# interest earned since the last billing; reversed when that interest is billed.
ACCRUED_INTEREST = "3942"
# The budget's share of supported interest (hỗ trợ lãi suất), billed when the instalment
# falls due and held until the paying agency pays the claim (domain.support).
SUPPORT_RECEIVABLE = "3618"
PROVISION = "2191"
ENTRUSTED_CAPITAL = "4531"
CHARTER_CAPITAL = "4111"
GRANT_CAPITAL = "4118"
OTHER_CAPITAL = "4119"
INTEREST_INCOME = "7021"
OVERDUE_INTEREST_INCOME = "7022"
# A decrease of the required provision is income (hoàn nhập dự phòng), not a negative cost.
PROVISION_RELEASE_INCOME = "7901"
PROVISION_EXPENSE = "8822"
# Interest recognised as income in an earlier financial year that became doubtful.
DOUBTFUL_INTEREST_EXPENSE = "8091"
WRITTEN_OFF_MEMO = "9711"
SUSPENDED_INTEREST_MEMO = "9412"
MEMO_CONTRA = "9999"
