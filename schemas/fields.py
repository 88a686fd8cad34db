"""Custom fields that validate syntax with well-kept libraries."""

from types import ModuleType
from typing import Any

import marshmallow as ma
import phonenumbers
from stdnum.eu import vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren, siret, tva

from services.emails import EmailNotValidError, normalize_email

MAX_EMAIL_LENGTH = 254


class Email(ma.fields.String):
    """An e-mail address checked by email-validator (syntax only, no DNS), returned in the one
    normal form every comparison uses (``services.emails.normalize_email``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Length(max=MAX_EMAIL_LENGTH))
        super().__init__(**kwargs)
        self.metadata.setdefault("format", "email")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            normalized = normalize_email(raw)
        except EmailNotValidError as exc:
            raise ma.ValidationError(f"Not a valid e-mail address: {exc}") from exc
        if len(normalized) > MAX_EMAIL_LENGTH:
            raise ma.ValidationError(f"Longer than {MAX_EMAIL_LENGTH} characters once normalised.")
        return normalized


NUL_REFUSED = "Must not contain a NUL character (U+0000)."


class Text(ma.fields.String):
    """A string that can be stored: PostgreSQL refuses text containing U+0000.

    Checked here, so the client gets a 422 on the field on both databases rather than a
    value SQLite stores and PostgreSQL rejects.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError(NUL_REFUSED)
        return text


class TrimmedString(Text):
    """A string with surrounding white space removed; blank becomes an error when required."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class Phone(ma.fields.String):
    """A telephone number checked by phonenumbers (French numbers may omit +33), stored E.164."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Length(max=40))
        super().__init__(**kwargs)
        self.metadata.setdefault("example", "+33142685300")
        self.metadata.setdefault("description", "Any common notation; returned in E.164.")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            number = phonenumbers.parse(raw, "FR")
        except phonenumbers.NumberParseException as exc:
            raise ma.ValidationError("Not a telephone number.") from exc
        if not phonenumbers.is_valid_number(number):
            raise ma.ValidationError("Not a valid telephone number for its country.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class StdnumString(ma.fields.String):
    """A national identifier checked by a python-stdnum module, returned in compact form."""

    module: ModuleType
    label: str
    example: str

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Length(max=40))
        super().__init__(**kwargs)
        self.metadata.setdefault("example", self.example)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return str(self.module.validate(raw))
        except StdnumError as exc:
            raise ma.ValidationError(f"Not a valid {self.label}: {exc.message}") from exc


class Siren(StdnumString):
    """A SIREN (9 digits, Luhn check); spaces allowed on input, returned compact."""

    module, label, example = siren, "SIREN", "552120222"


class Siret(StdnumString):
    """A SIRET (14 digits, Luhn check); spaces allowed on input, returned compact."""

    module, label, example = siret, "SIRET", "55212022200013"


class VatNumber(ma.fields.String):
    """An EU VAT number; French ones (``FR`` + key + SIREN) are checked with ``stdnum.fr.tva``.

    Returned compact with its country prefix (``FR40303265045``).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Length(max=40))
        super().__init__(**kwargs)
        self.metadata.setdefault("example", "FR40303265045")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            number = vat.compact(raw)
            if number[:2].isdigit() or number.startswith("FR"):
                return "FR" + tva.validate(number.removeprefix("FR"))
            return vat.validate(number)
        except StdnumError as exc:
            raise ma.ValidationError(f"Not a valid VAT number: {exc.message}") from exc


class Website(ma.fields.Url):
    """An http(s) address; ``www.example.fr`` is read as ``https://www.example.fr``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Length(max=500))
        super().__init__(relative=False, schemes={"http", "https"}, require_tld=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str) and "://" not in value and value.strip():
            value = "https://" + value.strip()
        return super()._deserialize(value, attr, data, **kwargs)
