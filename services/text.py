"""Text folding for search and sorting that behaves the same on SQLite and PostgreSQL.

Neither database folds French accents the same way (SQLite's ``lower()`` only knows ASCII,
PostgreSQL's depends on the collation and needs ``unaccent``), so the application folds text
once, at write time, into plain columns (``search_text``, ``sort_name``) and folds the query
the same way at read time.
"""

import functools
import re
import unicodedata

_SPACES = re.compile(r"\s+")

# Letters NFKD does not decompose into a base letter plus a combining mark.
_LIGATURES = str.maketrans({"ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l"})


class _WithoutMarks(dict[int, int | None]):
    """A ``str.translate`` table that drops combining marks: each character's entry is worked
    out the first time it is met, then looked up. Only characters of the alphabetic scripts
    (below U+3000) are kept in it, so that hostile text cannot grow it without bound."""

    def __missing__(self, point: int) -> int | None:
        kept = None if unicodedata.combining(chr(point)) else point
        if point < 0x3000:
            self[point] = kept
        return kept


_WITHOUT_MARKS = _WithoutMarks()


@functools.lru_cache(maxsize=4096)
def fold(text: str | None) -> str:
    """``"  Société   GÉNÉRALE "`` -> ``"societe generale"``: accents and case removed.

    NFKD splits accented letters into base letter + combining mark (and expands ligatures such
    as "œ" -> "oe" after casefolding), the marks are dropped, ``casefold`` handles "ß" -> "ss",
    and runs of white space become one space. Cached: a record's name is folded twice (search
    text and sort key), and an import folds the same cities again and again.
    """
    if not text:
        return ""
    if text.isascii():  # nothing to decompose or drop: casefold is lower
        return _SPACES.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES).casefold())
    stripped = decomposed.translate(_WITHOUT_MARKS)
    # "œ" and "æ" survive NFKD; spell them out as French sorts them.
    stripped = stripped.replace("œ", "oe").replace("æ", "ae")
    return _SPACES.sub(" ", stripped).strip()


def fold_all(*parts: str | None) -> str:
    """Several values folded and joined by one space, empty ones skipped."""
    return " ".join(folded for part in parts if (folded := fold(part)))


def like_pattern(text: str) -> str:
    """``text`` as a LIKE substring pattern, its wildcards escaped with a backslash.

    Use with ``escape="\\\\"``: a ``%`` or ``_`` a user types is a character to find.
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
