"""French company identifiers: how SIREN, SIRET and VAT numbers must agree with one another.

Each number's own syntax and check digits are checked by the schemas (python-stdnum); this
module holds the rule between them, used by the schemas for one request body and by the
services for the record as it will be saved (a PATCH may send the SIRET alone).
"""

from stdnum.fr import tva


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
