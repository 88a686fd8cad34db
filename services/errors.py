"""Domain errors raised by services; ``api/errors.py`` turns each into one HTTP problem."""

from collections.abc import Mapping
from typing import Any


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(ServiceError):
    """The record does not exist (or the caller may not know it exists)."""

    def __init__(self, resource: str, identifier: object) -> None:
        super().__init__(f"No {resource} with id {identifier}.")
        self.resource = resource


class InvalidInput(ServiceError):
    """Well-formed input that breaks a rule about its value (a 422 naming the fields)."""

    def __init__(
        self,
        errors: Mapping[str, list[str]],
        detail: str = "The request has invalid fields; see errors.",
        *,
        rule: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.errors = dict(errors)
        # The rule that refused the request, named in the problem ``type`` (default: generic).
        self.rule = rule


class Conflict(ServiceError):
    """A duplicate natural key or a state rule: the request is valid but clashes with data."""

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        existing: Mapping[str, Any] | None = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.field = field
        self.existing = dict(existing) if existing else None
        # The rule that refused the request, named in the problem ``type`` (default: generic).
        self.rule = rule


class PreconditionFailed(ServiceError):
    """The record changed since the client read it (its ETag no longer matches)."""

    def __init__(self, detail: str = "The record was modified since you read it.") -> None:
        super().__init__(detail)


class VersionConflict(PreconditionFailed):
    """The record changed between this request's read and its write (its version moved)."""


class AuthenticationFailed(ServiceError):
    """Credentials or token refused; the message never says which part was wrong."""


class PermissionDenied(ServiceError):
    """Authenticated, but not allowed to do this."""


class TooManyAttempts(ServiceError):
    """Too many failed logins: try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed login attempts. Try again later.")
        self.retry_after = retry_after


class ServiceBusy(ServiceError):
    """Capacity for this kind of work is used up right now: try again after ``retry_after``."""

    def __init__(self, detail: str, *, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
