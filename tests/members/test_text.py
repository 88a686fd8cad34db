import pytest

from services.geography import departement_of
from services.text import fold, fold_all


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("  Société   GÉNÉRALE ", "societe generale"),
        ("Œuvre du Cœur", "oeuvre du coeur"),
        ("Straße", "strasse"),
        ("ﬁnance", "finance"),
        ("Ørsted\tÎle-de-France\n", "orsted ile-de-france"),
        ("", ""),
        (None, ""),
    ],
)
def test_fold_removes_accents_case_and_extra_spaces(raw, folded):
    assert fold(raw) == folded


def test_fold_all_skips_empty_parts():
    assert fold_all("Hôpital Necker", None, "", "PARIS") == "hopital necker paris"


@pytest.mark.parametrize(
    ("postal_code", "departement"),
    [
        ("75015", "75"),
        ("92100", "92"),
        ("01000", "01"),
        ("20000", "2A"),
        ("20167", "2A"),
        ("20200", "2B"),
        ("20600", "2B"),
        ("97400", "974"),
        ("97600", "976"),
        ("97700", None),
        ("96000", None),
        ("00100", None),
        ("20900", None),
        ("7501", None),
        ("75O15", None),
        (None, None),
    ],
)
def test_departement_of_postal_code(postal_code, departement):
    assert departement_of(postal_code) == departement
