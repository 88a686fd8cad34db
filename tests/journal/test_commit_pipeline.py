"""On PostgreSQL the journal's statement travels with the COMMIT (``services.commit_statements``):
the change and its entries still commit together or not at all, and nothing waits past its
transaction."""

import uuid

import pytest
from sqlalchemy import select, text

from api.extensions import db
from models import JournalEntry, Member
from services import journal
from tests.journal.helpers import entries_after, last_seq
from tests.members.factories import make_member

pytestmark = pytest.mark.postgres_only

MEMBERS = "/api/v1/members"
JOURNAL_STATEMENT = "WITH journal_lock"


def _entries_of(session, record_id: uuid.UUID) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(JournalEntry.event_type)
            .where(JournalEntry.resource_id == record_id)
            .order_by(JournalEntry.seq)
        )
    )


def test_a_write_sends_its_entries_last_and_commits_them_with_the_change(
    committing_app, real_session, real_staff_headers, count_queries
):
    client = committing_app.test_client()
    with count_queries() as statements:
        response = client.post(
            MEMBERS, json={"name": "Pipelined", "category": "sme"}, headers=real_staff_headers
        )
    assert response.status_code == 201, response.json
    member_id = uuid.UUID(response.json["id"])
    journal_statements = [sql for sql in statements if sql.lstrip().startswith(JOURNAL_STATEMENT)]
    assert len(journal_statements) == 1
    assert statements[-1].lstrip().startswith(JOURNAL_STATEMENT), "sent with the COMMIT"
    assert _entries_of(real_session, member_id) == ["member.created"]
    assert real_session.get(Member, member_id) is not None


def test_a_journal_statement_that_fails_at_commit_leaves_no_change(
    committing_app, real_session, real_staff_headers
):
    """The statement runs in the COMMIT's round trip: its failure must still undo the write."""
    real_session.execute(
        text(
            "CREATE FUNCTION refuse_journal() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'journal refused'; END $$"
        )
    )
    real_session.execute(
        text(
            "CREATE TRIGGER refuse_journal BEFORE INSERT ON journal_entries "
            "FOR EACH ROW EXECUTE FUNCTION refuse_journal()"
        )
    )
    real_session.commit()
    try:
        client = committing_app.test_client()
        response = client.post(
            MEMBERS, json={"name": "Never Written", "category": "sme"}, headers=real_staff_headers
        )
        assert response.status_code == 500
        assert response.mimetype == "application/problem+json"
        real_session.expire_all()
        written = real_session.scalars(select(Member).where(Member.name == "Never Written"))
        assert list(written) == []
    finally:
        real_session.execute(text("DROP TRIGGER refuse_journal ON journal_entries"))
        real_session.execute(text("DROP FUNCTION refuse_journal()"))
        real_session.commit()
    # The connection that failed went back to the pool clean: the next write works.
    response = committing_app.test_client().post(
        MEMBERS, json={"name": "Written After", "category": "sme"}, headers=real_staff_headers
    )
    assert response.status_code == 201, response.json
    assert _entries_of(real_session, uuid.UUID(response.json["id"])) == ["member.created"]


def test_a_rolled_back_transaction_takes_its_waiting_entries_with_it(committing_app):
    with committing_app.app_context():
        session = db.session
        kept = make_member(session, name="Kept")
        dropped = make_member(session, name="Dropped")
        session.commit()
        start = last_seq(session)
        dropped.city = "Lyon"
        journal.write_entries(session)  # its statement now waits for the COMMIT
        session.rollback()
        kept.city = "Nice"
        session.commit()
        entries = entries_after(session, start)
        assert [(entry.resource_id, entry.changes) for entry in entries] == [
            (kept.id, {"city": [None, "Nice"]})
        ]
