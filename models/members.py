"""Members (the organisations of the cluster) and the vocabulary of their domains of activity."""

import uuid
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from models.base import ArchivableMixin, Base, RecordMixin

if TYPE_CHECKING:
    from models.memberships import Membership

# Byte-wise ordering on PostgreSQL, the same as SQLite's BINARY collation, so that sorting by
# name (and the keyset cursors built on it) gives the same order on both databases.
SORT_STRING = String(200).with_variant(String(200, collation="C"), "postgresql")


class MemberCategory(StrEnum):
    STARTUP = "startup"  # start-up / young innovative company (JEI)
    SME = "sme"
    MIDCAP = "midcap"
    LARGE_COMPANY = "large_company"
    ACADEMIC_LAB = "academic_lab"
    CLINICAL_CENTRE = "clinical_centre"  # hospital, clinical research centre
    TRAINING_ORGANISATION = "training_organisation"
    INVESTOR = "investor"
    PUBLIC_BODY = "public_body"
    OTHER = "other"


# INSEE "tranche d'effectif salarié" codes: NN = not an employer, 00 = no employee at year end,
# 01 = 1-2, 02 = 3-5, 03 = 6-9, 11 = 10-19, 12 = 20-49, 21 = 50-99, 22 = 100-199, 31 = 200-249,
# 32 = 250-499, 41 = 500-999, 42 = 1000-1999, 51 = 2000-4999, 52 = 5000-9999, 53 = 10000+.
HEADCOUNT_BANDS = (
    "NN", "00", "01", "02", "03", "11", "12", "21", "22", "31", "32", "41", "42", "51", "52", "53",
)  # fmt: skip

member_domains = Table(
    "member_domains",
    Base.metadata,
    Column(
        "member_id",
        ForeignKey("members.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # A domain in use cannot be deleted, only deactivated.
    Column("domain_id", ForeignKey("domains.id", ondelete="RESTRICT"), primary_key=True),
    # The "domain=" filter looks members up by domain.
    Index("ix_member_domains_domain_id", "domain_id"),
)


class Domain(RecordMixin, Base):
    """A domain of activity (diagnostics, imaging...): a vocabulary admins extend.

    Domains are deactivated rather than deleted so that members keep their history; an inactive
    domain cannot be given to a member any more.
    """

    __tablename__ = "domains"

    code: Mapped[str] = mapped_column(String(50), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(default=True)


class Member(ArchivableMixin, RecordMixin, Base):
    """An organisation of the cluster: company, laboratory, hospital, investor..."""

    __tablename__ = "members"

    name: Mapped[str] = mapped_column(String(200))
    legal_name: Mapped[str | None] = mapped_column(String(200), default=None)
    category: Mapped[str] = mapped_column(String(30), index=True)
    siren: Mapped[str | None] = mapped_column(String(9), unique=True, default=None)
    siret: Mapped[str | None] = mapped_column(String(14), default=None)  # head office
    vat_number: Mapped[str | None] = mapped_column(String(20), default=None)
    headcount_band: Mapped[str | None] = mapped_column(String(2), default=None)
    year_founded: Mapped[int | None] = mapped_column(default=None)
    website: Mapped[str | None] = mapped_column(String(500), default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)  # E.164
    street: Mapped[str | None] = mapped_column(String(300), default=None)
    postal_code: Mapped[str | None] = mapped_column(String(10), default=None)
    city: Mapped[str | None] = mapped_column(String(100), default=None)
    country: Mapped[str] = mapped_column(String(2), default="FR")  # ISO 3166-1 alpha-2
    # Derived from postal_code by the services (French addresses only).
    departement: Mapped[str | None] = mapped_column(String(3), default=None, index=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    # A group's subsidiary, or a laboratory's supervising institution.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="RESTRICT"), default=None, index=True
    )
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True, default=None)
    # Folded (accent- and case-insensitive) copies written by services/members.py.
    search_text: Mapped[str] = mapped_column(Text, default="")
    sort_name: Mapped[str] = mapped_column(SORT_STRING, default="")

    parent: Mapped["Member | None"] = relationship(remote_side="Member.id", lazy="raise_on_sql")
    domains: Mapped[list[Domain]] = relationship(
        secondary=member_domains, order_by=Domain.code, lazy="raise_on_sql"
    )

    # Number of contacts with an active affiliation; loaded with ``with_expression`` by the
    # member services (None when a query did not ask for it).
    contacts_count: Mapped[int | None] = query_expression()

    # Loaded by the member list only (services/member_memberships.py): the memberships, and
    # the day their status and ``member_since`` are read at.
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="member", lazy="raise_on_sql", order_by="Membership.start_date"
    )
    membership_as_of: Mapped[date | None] = query_expression()

    __table_args__ = (
        Index("ix_members_sort_name_id", "sort_name", "id"),
        Index("ix_members_created_at_id", "created_at", "id"),
        Index("ix_members_updated_at_id", "updated_at", "id"),
        Index(
            "ix_members_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )
