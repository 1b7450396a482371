"""The platform's one error vocabulary.

Every failure a user can cause is a `CoopError` with a machine-readable `code` and a
sentence a person understands. The API puts both in every payload; the CLI prints the
sentence without a traceback.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    INVALID_STATE = "INVALID_STATE"
    VALIDATION = "VALIDATION"
    CHAIN_REVERT = "CHAIN_REVERT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    UNAVAILABLE = "UNAVAILABLE"  # the chain node or the database cannot be reached
    RATE_LIMITED = "RATE_LIMITED"  # too many failed attempts: wait, then retry
    TIMEOUT = "TIMEOUT"  # the request ran past its time budget: ask for less
    SIGNATURE_REQUIRED = "SIGNATURE_REQUIRED"  # a member holding its own key: sign and resend
    INTERNAL = "INTERNAL"


class CoopError(Exception):
    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(CoopError):
    code = ErrorCode.NOT_FOUND


class Forbidden(CoopError):
    code = ErrorCode.FORBIDDEN


class InvalidState(CoopError):
    code = ErrorCode.INVALID_STATE


class ValidationFailed(CoopError):
    code = ErrorCode.VALIDATION


class ChainReverted(CoopError):
    code = ErrorCode.CHAIN_REVERT


class Unauthenticated(CoopError):
    code = ErrorCode.UNAUTHENTICATED


class Unavailable(CoopError):
    code = ErrorCode.UNAVAILABLE


class RateLimited(CoopError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TimedOut(CoopError):
    code = ErrorCode.TIMEOUT


class SignatureRequired(CoopError):
    """A member that holds its own key must sign this transaction: the error carries it
    unsigned; the same request sent again with it signed is relayed (cooperative.signing)."""

    code = ErrorCode.SIGNATURE_REQUIRED

    def __init__(self, message: str, *, transaction: dict[str, object]) -> None:
        super().__init__(message)
        self.transaction = transaction
