"""Text folding for search and sorting that behaves the same on SQLite and PostgreSQL.

Neither database folds French accents the same way (SQLite's ``lower()`` only knows ASCII,
PostgreSQL's depends on the collation and needs ``unaccent``), so the application folds text
once, at write time, into plain columns (``search_text``, ``sort_name``) and folds the query
the same way at read time.
"""

import re
import unicodedata

_SPACES = re.compile(r"\s+")

# Letters NFKD does not decompose into a base letter plus a combining mark.
_LIGATURES = str.maketrans({"ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l"})


def fold(text: str | None) -> str:
    """``"  Société   GÉNÉRALE "`` -> ``"societe generale"``: accents and case removed.

    NFKD splits accented letters into base letter + combining mark (and expands ligatures such
    as "œ" -> "oe" after casefolding), the marks are dropped, ``casefold`` handles "ß" -> "ss",
    and runs of white space become one space.
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES).casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    # "œ" and "æ" survive NFKD; spell them out as French sorts them.
    stripped = stripped.replace("œ", "oe").replace("æ", "ae")
    return _SPACES.sub(" ", stripped).strip()


def fold_all(*parts: str | None) -> str:
    """Several values folded and joined by one space, empty ones skipped."""
    return " ".join(folded for part in parts if (folded := fold(part)))
