"""Imports every model so the metadata knows all tables (migrations, create_all)."""

from fundapp.api.models import IdempotencyKey
from fundapp.areas.models import AdminUnit, UnitSuccession
from fundapp.audit.models import AuditLog
from fundapp.auth.models import ApiToken, LoginThrottle, User, UserRole, UserSession
from fundapp.banking.models import BankBatch, BankLine, BankMapping, BankStatement
from fundapp.cooperatives.models import Cooperative, CooperativeAddress, RelatedGroup
from fundapp.documents.file_models import FileDocument, FormTemplate
from fundapp.funds.models import Fund
from fundapp.ledger.models import (
    CapitalEntry,
    JournalEntry,
    JournalLine,
    LedgerDayTotal,
    LoanBalance,
)
from fundapp.loans.book import BookBorrower, BookLoan, BookTotal
from fundapp.loans.committee import CommitteeDecision, CommitteeMeeting
from fundapp.loans.days import (
    CloseDayFailure,
    CloseDayRun,
    DebtGroupHistory,
    LoanDay,
    Notice,
)
from fundapp.loans.dues import DueMonthTotal
from fundapp.loans.models import (
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
from fundapp.loans.relief import InterestRelief, OffBalanceRemoval
from fundapp.notices.models import OutboundMessage
from fundapp.planning.models import AnnualPlan, PlanLine
from fundapp.planning.ranking import RankingAssessment
from fundapp.policy.models import PolicyChange, PolicyParameter
from fundapp.support.models import SupportClaim, SupportClaimLine, SupportScheme

__all__ = [
    "AdminUnit",
    "AnnualPlan",
    "ApiToken",
    "Application",
    "ApplicationDocument",
    "AuditLog",
    "BankBatch",
    "BankLine",
    "BankMapping",
    "BankStatement",
    "BookBorrower",
    "BookLoan",
    "BookTotal",
    "CapitalEntry",
    "CloseDayFailure",
    "CloseDayRun",
    "Collateral",
    "CommitteeDecision",
    "CommitteeMeeting",
    "Cooperative",
    "CooperativeAddress",
    "Counter",
    "DebtGroupHistory",
    "Disbursement",
    "DueMonthTotal",
    "FileDocument",
    "FormTemplate",
    "Fund",
    "IdempotencyKey",
    "Inspection",
    "Instalment",
    "InterestRelief",
    "JournalEntry",
    "JournalLine",
    "LedgerDayTotal",
    "Loan",
    "LoanBalance",
    "LoanDay",
    "LoanTransition",
    "LoginThrottle",
    "Notice",
    "OffBalanceRemoval",
    "OutboundMessage",
    "PlanLine",
    "PolicyChange",
    "PolicyParameter",
    "RankingAssessment",
    "RelatedGroup",
    "Repayment",
    "Restructuring",
    "Reversal",
    "SupportClaim",
    "SupportClaimLine",
    "SupportScheme",
    "UnitSuccession",
    "User",
    "UserRole",
    "UserSession",
    "WriteOff",
]
