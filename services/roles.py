"""Scopes and roles: what each kind of user may do.

A scope names one capability (``members:write``); a role is a named set of scopes. Tokens carry
scopes, and a request is allowed only if both the token and the user's current role grant the
scope, so demoting a user takes effect at once.
"""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    VIEWER = "viewer"


READ_SCOPES = frozenset(
    {
        "members:read",
        "contacts:read",
        "memberships:read",
        "events:read",
        "interactions:read",
    }
)
WRITE_SCOPES = frozenset(
    {
        "members:write",
        "contacts:write",
        "memberships:write",
        "events:write",
        "interactions:write",
    }
)
ADMIN_SCOPES = frozenset({"users:admin", "vocabulary:write", "memberships:admin"})
ALL_SCOPES = READ_SCOPES | WRITE_SCOPES | ADMIN_SCOPES

ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.VIEWER: READ_SCOPES,
    Role.STAFF: READ_SCOPES | WRITE_SCOPES,
    Role.ADMIN: ALL_SCOPES,
}


def scopes_for_role(role: str) -> frozenset[str]:
    """The scopes a role grants; an unknown role grants nothing."""
    try:
        return ROLE_SCOPES[Role(role)]
    except ValueError:
        return frozenset()
