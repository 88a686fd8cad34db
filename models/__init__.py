"""SQLAlchemy 2 typed models, one module per domain.

Importing this package registers every table on ``Base.metadata``, which Alembic and the
tests rely on.
"""

from models.auth import AuthSession, LoginThrottle
from models.base import Base
from models.contacts import Affiliation, AffiliationRole, Contact, PhoneKind
from models.interactions import (
    Interaction,
    InteractionChannel,
    InteractionContact,
    InteractionKind,
    InteractionMember,
    InteractionParticipant,
    InteractionType,
    LinkRole,
)
from models.members import (
    HEADCOUNT_BANDS,
    Domain,
    Member,
    MemberCategory,
    member_domains,
)
from models.users import User

__all__ = [
    "HEADCOUNT_BANDS",
    "Affiliation",
    "AffiliationRole",
    "AuthSession",
    "Base",
    "Contact",
    "Domain",
    "Interaction",
    "InteractionChannel",
    "InteractionContact",
    "InteractionKind",
    "InteractionMember",
    "InteractionParticipant",
    "InteractionType",
    "LinkRole",
    "LoginThrottle",
    "Member",
    "MemberCategory",
    "PhoneKind",
    "User",
    "member_domains",
]
