"""The plans PostgreSQL chooses for the statements the benchmark leans on, on the loaded data.

``python -m bench.explain --database-url postgresql+psycopg://postgres@127.0.0.1:5432/mrm_bench``
runs ``EXPLAIN (ANALYZE, BUFFERS)`` on the statements mrm sends, built by its own services (not
copied): the member list filtered by ``membership_status`` and ``as_of`` (first page of 50,
by name), a member's timeline (first page) and the interaction search. It prints the plans,
saves them under bench/results/, and exits 1 when the member list reads the memberships table
without an index (a sequential scan of ``memberships``), so a lost index shows at any scale.
"""

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, create_engine, select, text
from sqlalchemy.engine import Connection

from models import Interaction, Member
from services.interactions import list_interactions
from services.members import list_members
from services.principals import Actor
from services.roles import Role
from services.timeline import _SOURCES, TIMELINE_KINDS, _statement

RESULTS_DIR = Path(__file__).parent / "results"
AS_OF = date(2025, 12, 31)
PAGE = 50


def _explain(
    connection: Connection, stmt: Select[Any], params: dict[str, Any] | None = None
) -> str:
    compiled = stmt.compile(dialect=connection.dialect)
    values = {**compiled.params, **(params or {})}
    sql = "EXPLAIN (ANALYZE, BUFFERS) " + str(compiled)
    return "\n".join(row[0] for row in connection.exec_driver_sql(sql, values))


def member_list_statement() -> Select[Any]:
    """First page of ``GET /members?membership_status=active&as_of=...`` (sorted by name)."""
    stmt = list_members(membership_status="active", as_of=AS_OF)
    return stmt.order_by(Member.sort_name, Member.id).limit(PAGE + 1)


def plans(database_url: str) -> tuple[str, bool]:
    """The report, and whether the member list used an index on memberships."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        counts = {
            table: connection.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
            for table in ("members", "memberships", "membership_payments", "interactions")
        }
        member_id = connection.scalar(select(Member.id).order_by(Member.id).limit(1))
        members_plan = _explain(connection, member_list_statement())
        kinds = tuple(kind for kind in TIMELINE_KINDS if kind in _SOURCES["member"])
        timeline = _statement("member", kinds, admin=False, since=False, until=False, after=False)
        timeline_plan = _explain(
            connection,
            timeline,
            {"record_id": member_id, "actor_id": member_id, "limit": PAGE + 1},
        )
        viewer = Actor(id=member_id, role=Role.STAFF)
        search = list_interactions(actor=viewer, q="reunion")  # type: ignore[arg-type]
        newest = (Interaction.occurred_at.desc(), Interaction.id.desc())  # the list's default
        search_plan = _explain(connection, search.order_by(*newest).limit(PAGE + 1))
    engine.dispose()
    indexed = "Seq Scan on memberships" not in members_plan
    sections = [
        f"# Plans on {database_url.rsplit('/', 1)[-1]} at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "rows: " + ", ".join(f"{table} {count:,}" for table, count in counts.items()),
        f"## members?membership_status=active&as_of={AS_OF} (first page of {PAGE})",
        members_plan,
        "## member timeline, first page (a staff user: confidential interactions filtered)",
        timeline_plan,
        "## interactions?q=reunion (a staff user)",
        search_plan,
        f"memberships read through an index: {'yes' if indexed else 'NO'}",
    ]
    return "\n\n".join(sections) + "\n", indexed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--label", default="", help="added to the result file's name")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL or pass --database-url")
    report, indexed = plans(args.database_url)
    print(report)
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    suffix = f"-{args.label}" if args.label else ""
    (RESULTS_DIR / f"explain-{stamp}{suffix}.txt").write_text(report)
    return 0 if indexed else 1


if __name__ == "__main__":
    sys.exit(main())
