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
        "projects:read",
    }
)
WRITE_SCOPES = frozenset(
    {
        "members:write",
        "contacts:write",
        "memberships:write",
        "events:write",
        "interactions:write",
        "projects:write",
        "projects:label",
    }
)
# The journal feed shows every change of every resource (users' included): not for viewers.
FEED_SCOPES = frozenset({"changes:read"})
ADMIN_SCOPES = frozenset({"users:admin", "vocabulary:write", "webhooks:admin", "memberships:admin"})
ALL_SCOPES = READ_SCOPES | WRITE_SCOPES | FEED_SCOPES | ADMIN_SCOPES

# What each scope lets a token do, as the API documentation shows it.
SCOPE_DESCRIPTIONS: dict[str, str] = {
    "members:read": "Read members and the domains of activity.",
    "members:write": "Create, change, archive and delete members.",
    "contacts:read": "Read contacts and their affiliations (personal data).",
    "contacts:write": "Create, change, archive and erase contacts and affiliations.",
    "memberships:read": "Read membership plans and memberships.",
    "memberships:write": "Manage memberships, payments, invoices, renewals and campaigns.",
    "memberships:admin": "Manage plans and fee schedules; set a membership's fee by hand.",
    "events:read": "Read events and registrations.",
    "events:write": "Manage events and registrations.",
    "interactions:read": "Read interactions with members.",
    "interactions:write": "Record interactions with members.",
    "projects:read": "Read R&D projects (confidential ones only in their team).",
    "projects:write": "Manage R&D projects, partners, submissions and lifecycle.",
    "projects:label": "Decide the cluster's label on a project's submission.",
    "changes:read": "Read the change journal of every resource (the feed integrations follow).",
    "users:admin": "Manage user accounts and their roles.",
    "vocabulary:write": "Extend the shared vocabularies (domains of activity).",
    "webhooks:admin": "Manage webhook subscriptions and their deliveries.",
}

ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.VIEWER: READ_SCOPES,
    Role.STAFF: READ_SCOPES | WRITE_SCOPES | FEED_SCOPES,
    Role.ADMIN: ALL_SCOPES,
}


def scopes_for_role(role: str) -> frozenset[str]:
    """The scopes a role grants; an unknown role grants nothing."""
    try:
        return ROLE_SCOPES[Role(role)]
    except ValueError:
        return frozenset()
