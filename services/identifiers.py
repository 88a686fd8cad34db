"""French company identifiers: how SIREN, SIRET and VAT numbers must agree with one another.

Each number's own syntax and check digits are checked by the schemas (python-stdnum); this
module holds the rule between them, used by the schemas for one request body and by the
services for the record as it will be saved (a PATCH may send the SIRET alone).
"""

from stdnum.fr import tva

from services.errors import InvalidInput


def french_vat_siren(vat_number: str) -> str | None:
    """The SIREN inside a French VAT number (``FRkk123456789``), None for other countries."""
    if not vat_number.upper().startswith("FR"):
        return None
    siren = tva.to_siren(vat_number[2:])
    return siren if siren.isdigit() else None


def identifier_mismatches(
    *, siren: str | None, siret: str | None, vat_number: str | None
) -> dict[str, list[str]]:
    """Messages by field when the SIRET or the French VAT number names another company."""
    errors: dict[str, list[str]] = {}
    if siret and siren and siret[:9] != siren:
        errors["siret"] = ["The SIRET's first nine digits must be the SIREN."]
    if vat_number and siren:
        vat_siren = french_vat_siren(vat_number)
        if vat_siren is not None and vat_siren != siren:
            errors["vat_number"] = ["This French VAT number belongs to another SIREN."]
    return errors


EXTERNAL_ID_LENGTH = 100


def external_id_from_path(value: str) -> str:
    """An importer's ``external_id`` taken from a URL path, held to the rule the bodies' field
    follows (trimmed, 1 to ``EXTERNAL_ID_LENGTH`` characters, no NUL), for every resource."""
    external_id = value.strip()
    if not 1 <= len(external_id) <= EXTERNAL_ID_LENGTH or "\x00" in external_id:
        raise InvalidInput(
            {"external_id": [f"Use 1 to {EXTERNAL_ID_LENGTH} characters, none of them NUL."]}
        )
    return external_id
