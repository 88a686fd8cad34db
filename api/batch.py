"""Batch writes: up to 100 records in one request, one result per item (207 Multi-Status).

Each item is written by the same service function as its single-record operation, so every
rule, conflict and journal entry is the same. Items are independent by default: each commits
on its own, and a refused item leaves the others written. With ``atomic`` the items share one
transaction (each in its own SAVEPOINT, so that a refusal is still reported per item): if any
fails, nothing is written and the others answer 424.
"""

import uuid
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from api.extensions import db
from api.problems import flatten_messages, problem_response
from schemas.batch import ItemError

# (session, item) -> (record id, whether it was created)
ItemWriter = Callable[[Session, dict[str, Any]], tuple[uuid.UUID, bool]]

NOT_APPLIED = 424


def _problem(status: int, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = problem_response(status, **fields).get_json()
    return body


def _refusal(error: Exception) -> dict[str, Any]:
    """The problem the single-record operation would have answered for ``error``."""
    response = current_app.make_response(current_app.handle_user_exception(error))
    if response.status_code >= 500:
        raise error
    body: dict[str, Any] = response.get_json()
    return body


def _invalid(item: ItemError) -> dict[str, Any]:
    return _problem(
        422,
        detail="The item has invalid fields; see errors.",
        slug="validation-error",
        errors=flatten_messages(item.messages),
    )


def _write(session: Session, write: ItemWriter, item: Any) -> dict[str, Any]:
    if isinstance(item, ItemError):
        return {"status": 422, "id": None, "problem": _invalid(item)}
    try:
        record_id, was_created = write(session, item)
    except Exception as error:  # every refusal the single operation maps to 4xx
        session.rollback()
        problem = _refusal(error)
        return {"status": problem["status"], "id": None, "problem": problem}
    return {"status": 201 if was_created else 200, "id": record_id, "problem": None}


def _atomic(items: list[Any], write: ItemWriter) -> list[dict[str, Any]]:
    outer = db.session
    connection = outer.connection()
    # Services commit once per item: here a commit only releases the item's SAVEPOINT, and the
    # request's transaction (``outer``) decides at the end.
    inner = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        results = [_write(inner, write, item) for item in items]
    finally:
        inner.close()
    if any(result["problem"] for result in results):
        outer.rollback()
        for result in results:
            if result["problem"] is None:
                detail = "Not written: another item of this atomic batch was refused."
                result.update(
                    status=NOT_APPLIED,
                    id=None,
                    problem=_problem(NOT_APPLIED, detail=detail, slug="failed-dependency"),
                )
    else:
        outer.commit()
    return results


def write_batch(items: list[Any], write: ItemWriter, *, atomic: bool) -> dict[str, Any]:
    """The 207 body: one result per item, in the order sent."""
    if atomic:
        results = _atomic(items, write)
    else:
        results = [_write(db.session, write, item) for item in items]
    return {"results": [{"index": index, **result} for index, result in enumerate(results)]}
