"""Imports every model so the metadata knows all tables (migrations, create_all)."""

from fundapp.api.models import IdempotencyKey
from fundapp.audit.models import AuditLog
from fundapp.auth.models import ApiToken, LoginThrottle, User, UserRole, UserSession
from fundapp.cooperatives.models import Cooperative, RelatedGroup
from fundapp.ledger.models import CapitalEntry, JournalEntry, JournalLine, LoanBalance
from fundapp.lending.models import (
    Application,
    ApplicationDocument,
    Collateral,
    Counter,
    Disbursement,
    Inspection,
    Instalment,
    Loan,
    LoanTransition,
    Repayment,
    Restructuring,
    Reversal,
    WriteOff,
)
from fundapp.policy.models import PolicyChange, PolicyParameter
from fundapp.servicing.models import (
    CloseDayFailure,
    CloseDayRun,
    DebtGroupHistory,
    LoanDay,
    Notice,
)

__all__ = [
    "ApiToken",
    "Application",
    "ApplicationDocument",
    "AuditLog",
    "CapitalEntry",
    "CloseDayFailure",
    "CloseDayRun",
    "Collateral",
    "Cooperative",
    "Counter",
    "DebtGroupHistory",
    "Disbursement",
    "IdempotencyKey",
    "Inspection",
    "Instalment",
    "JournalEntry",
    "JournalLine",
    "Loan",
    "LoanBalance",
    "LoanDay",
    "LoanTransition",
    "LoginThrottle",
    "Notice",
    "PolicyChange",
    "PolicyParameter",
    "RelatedGroup",
    "Repayment",
    "Restructuring",
    "Reversal",
    "User",
    "UserRole",
    "UserSession",
    "WriteOff",
]
