"""What a repeated search word costs: one ``LIKE`` per word as sent vs the words ``q`` keeps.

``python -m bench.search_words --database-url postgresql+psycopg://...  --word a --times 50
--include-total`` runs the member list's first page (and its total) for ``q`` = the word
repeated, alternately with one predicate per word as sent and with ``services.filters``'
deduplicated words, on data loaded by ``bench.generate``. Prepared statements are off so that
both run with the same kind of plan.
"""

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from models import Member
from services.members import MEMBER_SORT_KEYS, list_members
from services.pagination import Page, keyset_page
from services.text import fold, like_pattern


def _page(session: Session, stmt: Any, include_total: bool) -> Page:
    return keyset_page(
        session,
        stmt,
        id_column=Member.id,
        sortable=MEMBER_SORT_KEYS,
        sort="name",
        cursor=None,
        limit=50,
        include_total=include_total,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--word", default="a")
    parser.add_argument("--times", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--include-total", action="store_true")
    args = parser.parse_args(argv)
    q = " ".join([args.word] * args.times)

    def every_word(session: Session) -> Page:
        stmt = list_members(archived=False)
        for word in fold(q).split():
            stmt = stmt.where(Member.search_text.like(like_pattern(word), escape="\\"))
        return _page(session, stmt, args.include_total)

    def kept_words(session: Session) -> Page:
        return _page(session, list_members(archived=False, q=q), args.include_total)

    variants: dict[str, Callable[[Session], Page]] = {
        "one LIKE per word sent": every_word,
        "deduplicated words": kept_words,
    }
    timings: dict[str, list[float]] = {name: [] for name in variants}
    engine = create_engine(args.database_url, connect_args={"prepare_threshold": None})
    with Session(engine) as session:
        for _ in range(args.rounds):
            for name, run in variants.items():
                started = time.perf_counter()
                run(session)
                timings[name].append(time.perf_counter() - started)
    engine.dispose()
    for name, values in timings.items():
        print(
            f"{name}: median {statistics.median(values) * 1000:.1f} ms,"
            f" min {min(values) * 1000:.1f} ms over {args.rounds} runs"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
