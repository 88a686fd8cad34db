"""French postal codes and the département they belong to."""

import re

_POSTAL_CODE = re.compile(r"^\d{5}$")

# Métropole: 01..95 except 20 (Corsica is split into 2A and 2B by postal code below).
_METROPOLE = {f"{number:02d}" for number in range(1, 96)} - {"20"}
# Overseas départements: Guadeloupe, Martinique, Guyane, La Réunion, Saint-Pierre-et-Miquelon
# (a collectivity with its own INSEE code), Mayotte.
_OVERSEAS = {"971", "972", "973", "974", "975", "976"}

ILE_DE_FRANCE = ("75", "77", "78", "91", "92", "93", "94", "95")
DEPARTEMENTS = frozenset(_METROPOLE | _OVERSEAS | {"2A", "2B"})


def departement_of(postal_code: str | None) -> str | None:
    """The département code of a French postal code, or None when it names none.

    Corsica: 200xx-201xx are Corse-du-Sud (2A), 202xx-206xx Haute-Corse (2B). Overseas codes
    use three digits (971...976).
    """
    if not postal_code or not _POSTAL_CODE.match(postal_code):
        return None
    prefix = postal_code[:2]
    if prefix == "20":
        return "2A" if postal_code[2] in "01" else "2B" if postal_code[2] in "23456" else None
    if prefix == "97":
        return postal_code[:3] if postal_code[:3] in _OVERSEAS else None
    return prefix if prefix in _METROPOLE else None
