import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.geography import departement_of
from services.text import _LIGATURES, fold, fold_all


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


def _fold_one_by_one(text: str) -> str:
    """``fold`` as first written: every character decomposed and tested on its own."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES).casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    stripped = stripped.replace("œ", "oe").replace("æ", "ae")
    return re.sub(r"\s+", " ", stripped).strip()


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.one_of(st.characters(), st.sampled_from("éÉœæßøłÇ\u0301\u034f "))))
def test_fold_shortcuts_give_what_folding_each_character_gives(text):
    assert fold(text) == _fold_one_by_one(text)
