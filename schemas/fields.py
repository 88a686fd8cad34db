"""Custom fields that validate syntax with well-kept libraries."""

from types import ModuleType
from typing import Any

import marshmallow as ma
import phonenumbers
from stdnum.eu import vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren, siret, tva
from webargs.fields import DelimitedFieldMixin

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


BLANK_REFUSED = "Must not be blank."


class TrimmedString(Text):
    """A string with surrounding white space removed.

    A field whose ``Length`` has a minimum refuses a blank value as blank: the length check
    would otherwise run on the trimmed value and tell the client that " " has fewer than one
    character.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text and any(
            isinstance(validator, ma.validate.Length) and (validator.min or 0) > 0
            for validator in self.validators
        ):
            raise ma.ValidationError(BLANK_REFUSED)
        return text


MAX_SEARCH_WORDS = 8


class SearchText(Text):
    """The ``q`` of a list: words that must all appear, at most ``MAX_SEARCH_WORDS`` distinct.

    Each word costs a scan of the search column, so their number is bounded (repeated words
    count once; the service drops them).
    """

    def __init__(self, *, description: str, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Length(min=1, max=100))
        super().__init__(**kwargs)
        self.metadata.setdefault(
            "description",
            f"{description} Every word must match; at most {MAX_SEARCH_WORDS} distinct words.",
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(set(text.casefold().split())) > MAX_SEARCH_WORDS:
            raise ma.ValidationError(f"Use at most {MAX_SEARCH_WORDS} distinct words.")
        return text


class Flag(ma.fields.Boolean):
    """A boolean in a JSON body: ``true`` or ``false``, as the spec says; not 0, "yes", "on"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class QueryFlag(ma.fields.Boolean):
    """A boolean in a query string: exactly ``true`` or ``false``."""

    default_error_messages = {"invalid": "Use true or false."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if value not in ("true", "false"):
            raise self.make_error("invalid", input=value)
        return value == "true"


class BoundedList(ma.fields.List):
    """A list with at most ``max_items`` items (``maxItems`` in the spec), counted before any
    item is read, so that a huge list costs one error instead of one per item."""

    def __init__(
        self, inner: ma.fields.Field, *, max_items: int, min_items: int | None = None, **kwargs: Any
    ) -> None:
        self.max_items = max_items
        validators = [ma.validate.Length(min=min_items, max=max_items)]
        extra = kwargs.pop("validate", None)
        if extra is not None:
            validators.extend(extra if isinstance(extra, list | tuple) else [extra])
        super().__init__(inner, validate=validators, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, list | tuple) and len(value) > self.max_items:
            raise ma.ValidationError(f"Longer than maximum length {self.max_items}.")
        return super()._deserialize(value, attr, data, **kwargs)


class BoundedDelimitedList(DelimitedFieldMixin, BoundedList):
    """A ``BoundedList`` sent as one comma-separated query value (``types=a,b``)."""

    default_error_messages = {"invalid": "Not a valid comma-separated list."}


class Phone(ma.fields.String):
    """A telephone number checked by phonenumbers (French numbers may omit +33), stored E.164."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Length(max=40))
        super().__init__(**kwargs)
        self.metadata.setdefault("examples", ["+33142685300"])
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
    description: str

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Length(max=40))
        super().__init__(**kwargs)
        self.metadata.setdefault("examples", [self.example])
        self.metadata.setdefault("description", self.description)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return str(self.module.validate(raw))
        except StdnumError as exc:
            raise ma.ValidationError(f"Not a valid {self.label}: {exc.message}") from exc


class Siren(StdnumString):
    """A SIREN (9 digits, Luhn check); spaces allowed on input, returned compact."""

    module, label, example = siren, "SIREN", "552120222"
    description = "9 digits whose Luhn check digit must be right; spaces allowed."


class Siret(StdnumString):
    """A SIRET (14 digits, Luhn check); spaces allowed on input, returned compact."""

    module, label, example = siret, "SIRET", "55212022200013"
    description = "14 digits (SIREN + NIC) whose Luhn check digit must be right; spaces allowed."


class VatNumber(ma.fields.String):
    """An EU VAT number; French ones (``FR`` + key + SIREN) are checked with ``stdnum.fr.tva``.

    Returned compact with its country prefix (``FR40303265045``).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", ma.validate.Length(max=40))
        super().__init__(**kwargs)
        # Société Générale's: the key (27) is computed from the SIREN of the examples.
        self.metadata.setdefault("examples", ["FR27552120222"])
        self.metadata.setdefault(
            "description",
            "EU VAT number. A French one is FR, a two-digit key computed from the SIREN, and the "
            "SIREN (which must match the member's).",
        )

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
        # "uri" is the JSON Schema format ("url" is no format); "" is not an address.
        self.metadata.setdefault("format", "uri")
        self.metadata.setdefault("minLength", 1)
        self.metadata.setdefault("examples", ["https://www.example.fr"])

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str) and "://" not in value and value.strip():
            value = "https://" + value.strip()
        return super()._deserialize(value, attr, data, **kwargs)
