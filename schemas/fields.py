"""Custom fields that validate syntax with well-kept libraries."""

from typing import Any

import marshmallow as ma
from email_validator import EmailNotValidError, validate_email


class Email(ma.fields.String):
    """An e-mail address checked by email-validator (syntax only, no DNS), stored normalised."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Length(max=254))
        super().__init__(**kwargs)
        self.metadata.setdefault("format", "email")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            result = validate_email(raw, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ma.ValidationError(f"Not a valid e-mail address: {exc}") from exc
        return result.normalized


class TrimmedString(ma.fields.String):
    """A string with surrounding white space removed; blank becomes an error when required."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()
