"""Domain errors: services raise them, views turn them into messages.

No rule of its own: the way every rule of docs/rules.md refuses. ``DomainError`` and its
subclasses carry a message a user can act on (and the HTTP status the API answers with);
``RuleError`` is what the pure maths raises, naming the broken rule by a short code.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the fund refused the action. ``message`` is shown to the user as is;
    ``fields`` maps form field names to their own messages."""

    status_code = 422
    code = "rule_violation"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    code = "validation_error"


class MalformedRequest(DomainError):
    """A request that cannot be read at all (a JSON body nested too deep)."""

    status_code = 400
    code = "bad_request"


class PermissionDenied(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class RuleError(ValueError):
    """Input that the pure maths (schedules, allocation, overdue interest) cannot honour;
    ``rule`` is a short code naming the broken rule, ``detail`` says why."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.detail = message


def N_(message: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return message
