"""SQLAlchemy 2 typed models, one module per domain.

Importing this package registers every table on ``Base.metadata``, which Alembic and the
tests rely on.
"""

from models.auth import AuthSession, LoginThrottle
from models.base import Base
from models.contacts import Affiliation, AffiliationRole, Contact, PhoneKind
from models.imports import Import, ImportStatus
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
from models.journal import JournalEntry
from models.members import (
    HEADCOUNT_BANDS,
    Domain,
    Member,
    MemberCategory,
    member_domains,
)
from models.memberships import (
    FeeSchedule,
    Invoice,
    InvoiceCounter,
    InvoiceKind,
    LateJoinPolicy,
    Membership,
    MembershipCampaign,
    MembershipPayment,
    MembershipPlan,
    MembershipStatus,
    PaymentMethod,
    PeriodType,
    SizeBasis,
)
from models.users import User
from models.webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = [
    "HEADCOUNT_BANDS",
    "Affiliation",
    "AffiliationRole",
    "AuthSession",
    "Base",
    "Contact",
    "Domain",
    "FeeSchedule",
    "Import",
    "ImportStatus",
    "Invoice",
    "InvoiceCounter",
    "InvoiceKind",
    "Interaction",
    "InteractionChannel",
    "InteractionContact",
    "InteractionKind",
    "InteractionMember",
    "InteractionParticipant",
    "InteractionType",
    "JournalEntry",
    "LateJoinPolicy",
    "LinkRole",
    "LoginThrottle",
    "Member",
    "MemberCategory",
    "Membership",
    "MembershipCampaign",
    "MembershipPayment",
    "MembershipPlan",
    "MembershipStatus",
    "PaymentMethod",
    "PeriodType",
    "PhoneKind",
    "SizeBasis",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "member_domains",
]
