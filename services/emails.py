"""One normal form for e-mail addresses, used wherever one is stored, compared or looked up.

Two spellings a person would call the same address must meet: ``Bob@Exämple.fr``, its NFD
form, ``bob@xn--exmple-cua.fr`` (punycode) and ``ｂob@exämple.fr`` (fullwidth letters) all
become ``bob@exämple.fr``. Otherwise the same person could log in under one spelling only, or
exist twice as a user or a contact.
"""

import unicodedata

from email_validator import EmailNotValidError, validate_email

from services.errors import InvalidInput

__all__ = ["EmailNotValidError", "canonical_email", "normalize_email", "normalize_login_email"]


def normalize_email(address: str) -> str:
    """NFKC, then email-validator's normal form (NFC, IDNA domain), then case folding.

    Raises ``EmailNotValidError`` when the address is not valid (syntax only, no DNS).
    """
    compatible = unicodedata.normalize("NFKC", address.strip())
    normalized = validate_email(compatible, check_deliverability=False).normalized
    return unicodedata.normalize("NFKC", normalized.casefold())


def normalize_login_email(address: str) -> str:
    """The same normal form for what someone types at login; never refuses.

    An invalid address matches no account, but it still needs one stable spelling so that its
    failed attempts are counted under one key whatever case or width it is typed in.
    """
    try:
        return normalize_email(address)
    except EmailNotValidError:
        compatible = unicodedata.normalize("NFKC", address.strip())
        return unicodedata.normalize("NFKC", compatible.casefold())


def canonical_email(address: str, *, field: str = "email") -> str:
    """``normalize_email`` for the services: an invalid address is a 422 naming ``field``."""
    try:
        return normalize_email(address)
    except EmailNotValidError as exc:
        raise InvalidInput({field: [f"Not a valid e-mail address: {exc}"]}) from exc
