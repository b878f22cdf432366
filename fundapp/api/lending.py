"""API v1: applications, loans, schedules, disbursements, repayments, reversals."""

from __future__ import annotations

from fundapp.api import bp  # noqa: F401
