"""Imports every model so the metadata knows all tables (migrations, create_all)."""

from fundapp.api.models import IdempotencyKey
from fundapp.audit.models import AuditLog
from fundapp.auth.models import ApiToken, LoginThrottle, User, UserRole
from fundapp.cooperatives.models import Cooperative, RelatedGroup
from fundapp.ledger.models import CapitalEntry, JournalEntry, JournalLine
from fundapp.policy.models import PolicyParameter

__all__ = [
    "ApiToken",
    "AuditLog",
    "CapitalEntry",
    "Cooperative",
    "IdempotencyKey",
    "JournalEntry",
    "JournalLine",
    "LoginThrottle",
    "PolicyParameter",
    "RelatedGroup",
    "User",
    "UserRole",
]
