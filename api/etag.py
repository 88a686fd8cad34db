"""ETags from record versions, and the ``If-Match`` / ``If-None-Match`` headers read back."""

import re

from flask import request

# Versions fit in 18 digits; a longer one is no tag of ours (and int() refuses > 4300 digits).
_TAG = re.compile(r'(W/)?"v(\d{1,18})"')


def etag_for(version: int) -> str:
    """The strong ETag of a record at ``version``."""
    return f'"v{version}"'


def if_match_versions() -> frozenset[int] | None:
    """Versions the client accepts to overwrite; None when it sent no ``If-Match`` (or ``*``).

    A header that holds no tag of ours matches nothing, so the write is refused with 412.
    """
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    # If-Match compares strongly (RFC 9110 13.1.1): a weak tag never matches.
    return frozenset(int(version) for weak, version in _TAG.findall(header) if not weak)
