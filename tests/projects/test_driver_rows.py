"""Read statements run as mappings: the same rows through the driver (PostgreSQL) as through
SQLAlchemy, seen by the engine's statement listeners, errors raised as SQLAlchemy's."""

import pytest
from sqlalchemy import bindparam, literal_column, select
from sqlalchemy.exc import DBAPIError

from models import ProjectPartner
from services.driver_rows import mappings
from tests.interactions.factories import user_with_headers
from tests.projects.factories import make_partner, make_project

PARTNERS = (
    select(ProjectPartner.__table__)
    .where(ProjectPartner.project_id == bindparam("project_id"))
    .order_by(ProjectPartner.created_at, ProjectPartner.id)
)


def test_rows_are_dicts_of_the_columns_values(client, session):
    user, _ = user_with_headers(client, session)
    project = make_project(session, follower=user)
    partners = [make_partner(session, project, budget_cents=1000 * n) for n in range(3)]
    rows = mappings(session, PARTNERS, {"project_id": project.id})
    assert [row["id"] for row in rows] == [partner.id for partner in partners]
    assert list(rows[0]) == list(PARTNERS.selected_columns.keys())
    assert [row["budget_cents"] for row in rows] == [0, 1000, 2000]
    assert rows[0]["created_at"] == partners[0].created_at
    assert mappings(session, PARTNERS, {"project_id": user.id}) == []


def test_literal_values_of_conditions_are_bound(client, session):
    user, _ = user_with_headers(client, session)
    project = make_project(session, follower=user)
    coordinator = make_partner(session, project, role="coordinator", category="startup")
    make_partner(session, project, role="partner", category="academic_lab")
    coordinators = PARTNERS.where(ProjectPartner.role == "coordinator")
    rows = mappings(session, coordinators, {"project_id": project.id})
    assert [row["id"] for row in rows] == [coordinator.id]


def test_statements_are_seen_by_the_engine_listeners(client, session, count_queries):
    user, _ = user_with_headers(client, session)
    project = make_project(session, follower=user)
    with count_queries() as statements:
        mappings(session, PARTNERS, {"project_id": project.id})
    assert len(statements) == 1
    assert "project_partners" in statements[0]


def test_a_failing_statement_raises_sqlalchemy_error(session):
    broken = select(literal_column("no_such_column")).where(literal_column("1") == bindparam("one"))
    with pytest.raises(DBAPIError):
        mappings(session, broken, {"one": 1})
