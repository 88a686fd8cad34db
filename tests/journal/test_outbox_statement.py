"""On PostgreSQL the journal's one statement carries the visibility condition for webhook
receivers only when the write touches a type with confidential records: planning that
condition cost a member create more than the rest of its journal (bench.journal)."""

import pytest

from tests.factories import make_user
from tests.projects.factories import make_project

MEMBER = {"name": "Acme Biotech", "category": "sme"}


def _journal_statement(statements: list[str]) -> str:
    (journal,) = [sql for sql in statements if "INSERT INTO journal_entries" in sql]
    return journal


@pytest.mark.postgres_only
def test_a_member_write_skips_the_visibility_condition(
    client, staff_headers, count_queries, backend
):
    with count_queries() as statements:
        response = client.post("/api/v1/members", json=MEMBER, headers=staff_headers)
    assert response.status_code == 201
    journal = _journal_statement(statements)
    assert "INSERT INTO webhook_deliveries" in journal
    assert "confidential" not in journal


@pytest.mark.postgres_only
def test_a_project_write_checks_what_receivers_may_hear_of(
    client, session, admin_headers, count_queries, backend
):
    project = make_project(session, follower=make_user(session, role="staff"))
    session.commit()
    with count_queries() as statements:
        response = client.patch(
            f"/api/v1/projects/{project.id}", json={"title": "Nouveau titre"}, headers=admin_headers
        )
    assert response.status_code == 200
    journal = _journal_statement(statements)
    assert "projects.confidential" in journal
