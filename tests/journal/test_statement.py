"""The journal's own statement on PostgreSQL fails like any other, writing nothing."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.extensions import db
from models import JournalEntry, Member
from services import journal
from tests.members.factories import make_member


@pytest.mark.postgres_only
def test_a_journal_statement_that_fails_raises_sqlalchemys_error_and_writes_nothing(
    committing_app,
):
    """Another transaction holds the journal lock past this one's lock timeout: the commit
    fails with SQLAlchemy's OperationalError (which the API answers with 503), and neither
    the member nor an entry is written."""
    engine = db.state(committing_app).engine
    with engine.connect() as holder, Session(bind=engine) as session:
        holder.execute(select(func.pg_advisory_xact_lock(journal.JOURNAL_LOCK_KEY)))
        session.execute(text("SET LOCAL lock_timeout = '200ms'"))
        member_id = make_member(session, name="Blocked by the journal lock").id
        with pytest.raises(OperationalError):
            session.commit()
        session.rollback()
        holder.rollback()
        assert session.get(Member, member_id) is None
        entries = session.scalars(
            select(JournalEntry).where(JournalEntry.resource_id == member_id)
        ).all()
        assert entries == []
