"""Collaborative R&D projects: the record, its team, its lifecycle and its results.

Rules held here: a project is followed by one active staff user (the acting user unless another
is named) with any number of other staff users in its team; ``external_id`` is unique (the
constraint decides under concurrency); the state moves only along ``PROJECT_TRANSITIONS``, each
move dated and signed; results are recorded once the project is closed. A confidential project
exists only for its follower, its team and admins: for anyone else every function here (and in
the partner and submission modules, which start from ``get_project``) answers ``NotFound`` or
leaves it out, counts included.
"""

import functools
import uuid
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.orm import Session, selectinload

from models import (
    PROJECT_TRANSITIONS,
    Domain,
    JournalEntry,
    LabelDecision,
    Member,
    PartnerRole,
    Project,
    ProjectPartner,
    ProjectStaff,
    ProjectState,
    ProjectSubmission,
    ProjectTransition,
    SubmissionOutcome,
    User,
    project_domains,
)
from models.projects import LABEL_STATES
from models.types import utcnow
from services.domains import resolve_domains
from services.driver_rows import FieldsView, among_ids, mappings
from services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.filters import search_words
from services.identifiers import external_id_from_path
from services.journal import JournalSpec, record_action, record_history, register
from services.pagination import (
    MAX_LIMIT,
    Page,
    _decode_cursor,
    _encode_cursor,
    attribute_key,
    datetime_key,
    parse_sort,
)
from services.principals import Actor
from services.roles import Role
from services.text import fold_all, like_pattern
from services.transactions import check_version, commit

PROJECTS_PATH = "/api/v1/projects"
LABEL_SCOPE = "projects:label"
PROJECT_SORT_KEYS = {
    "created_at": datetime_key(Project.created_at),
    "updated_at": datetime_key(Project.updated_at),
    "acronym": attribute_key(Project.acronym),
}
_SCALAR_FIELDS = (
    "acronym", "title", "summary", "trl_start", "trl_target", "duration_months",
    "total_budget_cents", "follower_id", "confidential", "external_id",
)  # fmt: skip
_RESULT_FIELDS = {
    "products_launched": "products_launched",
    "patents_filed": "patents_filed",
    "jobs_created": "jobs_created",
    "follow_on_funding_cents": "follow_on_funding_cents",
    "notes": "results_notes",
}
# One record embeds its domains, team and whole consortium.
_DETAIL_OPTIONS = (
    selectinload(Project.domains),
    selectinload(Project.team),
    selectinload(Project.partners),
    selectinload(Project.submissions),
    selectinload(Project.transitions),
)

register(
    Project,
    JournalSpec(
        "project",
        "projects:read",
        exclude=frozenset({"search_text"}),
        collections={
            "domains": lambda domain: domain.code,
            "team": lambda member: str(member.user_id),
            "interaction_links": lambda link: str(link.interaction_id),
        },
        visible=lambda reader: project_entries_visible_to(
            reader, Project.id == JournalEntry.resource_id
        ),
    ),
)


def project_entries_visible_to(
    reader: Actor, *entry_project: ColumnElement[bool]
) -> ColumnElement[bool]:
    """The journal entries ``reader`` may see of a project's records: those of projects visible
    to them, ``entry_project`` joining the entry to its project (the entry's own record, or a
    partner's or submission's project). Entries of a deleted record are left to admins, as
    nothing tells any more whether its project was confidential."""
    if reader.role == Role.ADMIN:
        return true()
    return exists().where(*entry_project, visible_to(reader))


def project_href(project_id: uuid.UUID) -> str:
    return f"{PROJECTS_PATH}/{project_id}"


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """Projects ``actor`` may know of: every one for an admin; otherwise those not
    confidential, those they follow and those whose team they are in."""
    return visibility(admin=actor.role == Role.ADMIN, user_id=actor.id)


def visibility(*, admin: bool, user_id: Any) -> ColumnElement[bool]:
    """``visible_to`` for a user given by id, a value or a bound parameter."""
    if admin:
        return true()
    in_team = exists().where(ProjectStaff.project_id == Project.id, ProjectStaff.user_id == user_id)
    return or_(Project.confidential.is_(False), Project.follower_id == user_id, in_team)


# The list's filters: each a condition on bound parameters, and the values it binds for the
# argument. A statement is built once per set of filters, so a request only binds values.
_FILTERS: dict[str, tuple[Callable[[], ColumnElement[bool]], Callable[[Any], dict[str, Any]]]]
_FILTERS = {
    "state": (lambda: Project.state == bindparam("state"), lambda v: {"state": v}),
    "follower_id": (
        lambda: Project.follower_id == bindparam("follower_id"),
        lambda v: {"follower_id": v},
    ),
    "external_id": (
        lambda: Project.external_id == bindparam("external_id"),
        lambda v: {"external_id": v},
    ),
    "updated_since": (
        lambda: Project.updated_at >= bindparam("updated_since"),
        lambda v: {"updated_since": v},
    ),
    "domain": (
        lambda: Project.domains.any(Domain.code == bindparam("domain")),
        lambda v: {"domain": v},
    ),
    "member_id": (
        lambda: _has_partner(ProjectPartner.member_id == bindparam("member_id")),
        lambda v: {"member_id": v},
    ),
    "coordinator_category": (
        lambda: _has_partner(
            ProjectPartner.role == PartnerRole.COORDINATOR.value,
            ProjectPartner.category == bindparam("coordinator_category"),
        ),
        lambda v: {"coordinator_category": v},
    ),
    "programme": (
        lambda: _has_submission(ProjectSubmission.programme == bindparam("programme")),
        lambda v: {"programme": v},
    ),
    # ``labelled_in``: a submission whose label was granted that year.
    "labelled_in": (
        lambda: _has_submission(
            ProjectSubmission.label_decision == LabelDecision.GRANTED.value,
            _in_year(ProjectSubmission.label_decided_on, "labelled_in"),
        ),
        lambda v: _year_bounds("labelled_in", v),
    ),
    # ``funded_in``: a submission funded with its decision dated that year.
    "funded_in": (
        lambda: _has_submission(
            ProjectSubmission.outcome == SubmissionOutcome.FUNDED.value,
            _in_year(ProjectSubmission.decision_date, "funded_in"),
        ),
        lambda v: _year_bounds("funded_in", v),
    ),
}


@functools.cache
def _list_statement(admin: bool, filters: tuple[str, ...], words: int) -> Select[Any]:
    """Projects the acting user (``actor_id``) may see that match ``filters`` and ``words``
    words of ``q`` (``word_0``...), unordered; built once per combination."""
    stmt = select(Project.__table__).where(visibility(admin=admin, user_id=bindparam("actor_id")))
    for name in filters:
        stmt = stmt.where(_FILTERS[name][0]())
    for number in range(words):
        stmt = stmt.where(Project.search_text.like(bindparam(f"word_{number}"), escape="\\"))
    return stmt


@functools.cache
def _count_statement(admin: bool, filters: tuple[str, ...], words: int) -> Select[Any]:
    """The number of projects ``_list_statement`` finds, as ``keyset_page`` counts them."""
    listed = _list_statement(admin, filters, words)
    return select(func.count()).select_from(listed.subquery())


@functools.cache
def _page_statement(
    admin: bool, filters: tuple[str, ...], words: int, sort: str, after: bool
) -> Select[Any]:
    """One page (``limit`` rows) of ``_list_statement`` ordered by ``sort`` then id, starting
    after the row (``after_value``, ``after_id``) of a cursor when ``after``."""
    key, descending = parse_sort(sort, PROJECT_SORT_KEYS)
    stmt = _list_statement(admin, filters, words)
    if after:
        pair = tuple_(key.column, Project.id)
        bound = tuple_(
            bindparam("after_value", type_=key.column.type),
            bindparam("after_id", type_=Project.id.type),
        )
        stmt = stmt.where(pair < bound if descending else pair > bound)
    if descending:
        stmt = stmt.order_by(key.column.desc(), Project.id.desc())
    else:
        stmt = stmt.order_by(key.column.asc(), Project.id.asc())
    return stmt.limit(bindparam("limit", type_=Integer()))


def page_projects(
    session: Session,
    *,
    actor: Actor,
    sort: str,
    limit: int,
    cursor: str | None = None,
    include_total: bool = False,
    q: str | None = None,
    **filters: Any,
) -> Page:
    """One page of the projects ``actor`` may see that match every filter, each with its
    domains and team, keyset-paginated as ``services.pagination.keyset_page`` does (same
    cursors, same order): plain rows and two more statements for the whole page, whatever its
    size, each statement built once per process with bind parameters.

    ``labelled_in``: a submission whose label was granted that year; ``funded_in``: a
    submission funded with its decision dated that year; ``member_id``: the member is a partner.
    """
    key, _descending = parse_sort(sort, PROJECT_SORT_KEYS)
    limit = max(1, min(limit, MAX_LIMIT))
    admin = actor.role == Role.ADMIN
    names = tuple(name for name in _FILTERS if filters.get(name) is not None)
    words = search_words(q)
    values: dict[str, Any] = {"actor_id": actor.id, "limit": limit + 1}
    for name in names:
        values.update(_FILTERS[name][1](filters[name]))
    values.update({f"word_{n}": like_pattern(word) for n, word in enumerate(words)})
    total = None
    if include_total:
        total = session.connection().scalar(_count_statement(admin, names, len(words)), values)
    if cursor:
        values["after_value"], values["after_id"] = _decode_cursor(cursor, sort, key, Project.id)
    stmt = _page_statement(admin, names, len(words), sort, bool(cursor))
    rows = mappings(session, stmt, values)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode_cursor(sort, [_in_utc(last[key.column.key]), last["id"]])
    if not rows:
        return Page(items=rows, next_cursor=next_cursor, total=total)
    items = [ProjectView(row) for row in rows]
    by_id = {item["id"]: item for item in items}
    for item in items:
        item["domains"], item["team_ids"] = [], []
        item["allowed_transitions"] = _allowed_next(item["state"])
    postgresql = session.get_bind().dialect.name == "postgresql"
    domain_rows, team_rows = (
        mappings(session, stmt, {"ids": list(by_id)}) for stmt in _page_lists(postgresql)
    )
    for row in domain_rows:
        by_id[row["project_id"]]["domains"].append({"code": row["code"], "label": row["label"]})
    for row in team_rows:
        by_id[row["project_id"]]["team_ids"].append(row["user_id"])
    for item in items:
        item["team_ids"].sort(key=str)
    return Page(items=items, next_cursor=next_cursor, total=total)


def _in_utc(value: Any) -> Any:
    """A timestamp as SQLAlchemy's ``UTCDateTime`` reads it (in UTC), so that cursors are
    written the same whichever way the row was read; any other value as it is."""
    return value.astimezone(UTC) if isinstance(value, datetime) else value


@functools.cache
def _page_lists(postgresql: bool) -> tuple[Select[Any], Select[Any]]:
    """The domains and the team of a page's projects, built once with the ids as one parameter
    (``among_ids``)."""
    domains, team = Domain.__table__, ProjectStaff.__table__

    def among(column: Any) -> ColumnElement[bool]:
        return among_ids(column, postgresql)

    return (
        select(project_domains.c.project_id, domains.c.code, domains.c.label)
        .join(domains, domains.c.id == project_domains.c.domain_id)
        .where(among(project_domains.c.project_id))
        .order_by(domains.c.code),
        select(team.c.project_id, team.c.user_id).where(among(team.c.project_id)),
    )


def _has_partner(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(ProjectPartner.project_id == Project.id, *conditions)


def _has_submission(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(ProjectSubmission.project_id == Project.id, *conditions)


def _in_year(column: Any, name: str) -> ColumnElement[bool]:
    """A range, not ``extract(year)``, so that an index on the date could serve it; its bounds
    are the parameters ``<name>_from`` and ``<name>_to`` (``_year_bounds``)."""
    return and_(column >= bindparam(f"{name}_from"), column < bindparam(f"{name}_to"))


def _year_bounds(name: str, year: int) -> dict[str, date]:
    return {f"{name}_from": date(year, 1, 1), f"{name}_to": date(year + 1, 1, 1)}


@functools.cache
def _project_by_id(admin: bool, lock: bool) -> Select[tuple[Project]]:
    """Built once per process with bind parameters (the hot path of a project's page)."""
    stmt = (
        select(Project)
        .where(
            Project.id == bindparam("project_id"),
            visibility(admin=admin, user_id=bindparam("actor_id")),
        )
        .options(*_DETAIL_OPTIONS)
        .execution_options(populate_existing=True)
    )
    return stmt.with_for_update(of=Project) if lock else stmt


def get_project(
    session: Session, *, actor: Actor, project_id: uuid.UUID, lock: bool = False
) -> Project:
    """The project with its consortium, submissions and lifecycle; ``NotFound`` when it does
    not exist or is confidential and ``actor`` may not see it (the same answer, so that its
    existence does not leak). ``lock`` holds the project row until the transaction ends."""
    stmt = _project_by_id(actor.role == Role.ADMIN, lock)
    project = session.scalar(stmt, {"project_id": project_id, "actor_id": actor.id})
    if project is None:
        raise NotFound("project", project_id)
    return project


class ProjectView(FieldsView):
    """A project as the API shows it, read as plain rows: its columns, its lists and what is
    derived from them, by the names of the response's fields. A mapping is what the response
    dumper reads fastest."""


@functools.cache
def _page_statements(admin: bool) -> tuple[Select[Any], tuple[Select[Any], ...]]:
    """The statements of a project's page, built once per process with bind parameters: the
    project (if ``actor`` may see it), then its lists, one statement each."""
    project_id = bindparam("project_id")
    projects, partners = Project.__table__, ProjectPartner.__table__
    submissions, transitions = ProjectSubmission.__table__, ProjectTransition.__table__
    domains, team = Domain.__table__, ProjectStaff.__table__
    head = select(projects).where(
        projects.c.id == project_id, visibility(admin=admin, user_id=bindparam("actor_id"))
    )
    lists = (
        select(domains.c.code, domains.c.label)
        .join(project_domains, project_domains.c.domain_id == domains.c.id)
        .where(project_domains.c.project_id == project_id)
        .order_by(domains.c.code),
        select(team.c.user_id).where(team.c.project_id == project_id),
        select(partners)
        .where(partners.c.project_id == project_id)
        .order_by(partners.c.created_at, partners.c.id),
        select(submissions)
        .where(submissions.c.project_id == project_id)
        .order_by(submissions.c.created_at, submissions.c.id),
        select(transitions)
        .where(transitions.c.project_id == project_id)
        .order_by(transitions.c.at, transitions.c.id),
    )
    return head, lists


def read_project(session: Session, *, actor: Actor, project_id: uuid.UUID) -> ProjectView:
    """``get_project`` for reading only: the same answer from plain rows, without building
    ORM objects (a project's page is read far more often than it is written)."""
    head, lists = _page_statements(actor.role == Role.ADMIN)
    found = mappings(session, head, {"project_id": project_id, "actor_id": actor.id})
    if not found:
        raise NotFound("project", project_id)
    view = ProjectView(found[0])
    domains, team, partners, submissions, transitions = (
        mappings(session, stmt, {"project_id": project_id}) for stmt in lists
    )
    view["domains"] = domains
    view["team_ids"] = sorted((member["user_id"] for member in team), key=str)
    view["allowed_transitions"] = _allowed_next(view["state"])
    view["partners"] = partners
    view["submissions"] = submissions
    view["transitions"] = transitions
    return view


def project_history(
    session: Session, *, actor: Actor, project_id: uuid.UUID, limit: int, cursor: str | None = None
) -> Page:
    """The project's journal, newest first (404 for a project ``actor`` may not see)."""
    get_project(session, actor=actor, project_id=project_id)
    return record_history(session, model=Project, record_id=project_id, limit=limit, cursor=cursor)


def _check_users(session: Session, fields: Mapping[str, Any]) -> None:
    """The follower and the team must be active staff users (or admins): viewers only read."""
    wanted: dict[str, list[uuid.UUID]] = {}
    if fields.get("follower_id") is not None:
        wanted["follower_id"] = [fields["follower_id"]]
    if fields.get("team_ids"):
        wanted["team_ids"] = list(fields["team_ids"])
    ids = {user_id for values in wanted.values() for user_id in values}
    if not ids:
        return
    staff = set(
        session.scalars(
            select(User.id).where(
                User.id.in_(ids), User.is_active, User.role.in_((Role.STAFF, Role.ADMIN))
            )
        )
    )
    errors = {
        name: [f"No active staff user with id {value}." for value in values if value not in staff]
        for name, values in wanted.items()
    }
    errors = {name: messages for name, messages in errors.items() if messages}
    if errors:
        raise InvalidInput(errors)


def _duplicate(session: Session, actor: Actor, external_id: str | None) -> Conflict:
    """The 409 of a taken external_id; it points at the holder only if ``actor`` may see it."""
    existing = session.scalar(
        select(Project.id).where(Project.external_id == external_id, visible_to(actor))
    )
    ref = {"id": str(existing), "href": project_href(existing)} if existing else None
    return Conflict("A project already has this external_id.", field="external_id", existing=ref)


def _save(session: Session, actor: Actor, external_id: str | None) -> None:
    commit(session, {"uq_projects_external_id": lambda: _duplicate(session, actor, external_id)})


def _apply(session: Session, project: Project, fields: Mapping[str, Any]) -> None:
    for name in _SCALAR_FIELDS:
        if name in fields:
            setattr(project, name, fields[name])
    if "domains" in fields:
        project.domains = resolve_domains(session, fields["domains"])
    if "team_ids" in fields:
        project.team = [
            ProjectStaff(user_id=user_id)
            for user_id in fields["team_ids"]
            if user_id != project.follower_id  # the follower is in the team as the follower
        ]
    results = fields.get("results")
    if results:
        for name, attribute in _RESULT_FIELDS.items():
            if name in results:
                setattr(project, attribute, results[name])
    start, target = project.trl_start, project.trl_target
    if start is not None and target is not None and target < start:
        raise InvalidInput({"trl_target": ["Must not be below trl_start."]})
    project.search_text = fold_all(project.acronym, project.title)


def _check_results(project_state: str, fields: Mapping[str, Any]) -> None:
    if fields.get("results") and project_state != ProjectState.CLOSED:
        raise Conflict(
            f"Results are recorded once the project is closed; it is {project_state}.",
            field="results",
        )


def create_project(session: Session, *, actor: Actor, **fields: Any) -> Project:
    """Record a project (state ``idea`` from today) followed by ``follower_id`` (default: the
    acting user)."""
    values = {**fields, "follower_id": fields.get("follower_id") or actor.id}
    _check_results(ProjectState.IDEA, values)
    _check_users(session, values)
    project = Project(
        state=ProjectState.IDEA.value,
        state_since=date.today(),
        domains=[],
        team=[],
        partners=[],
        submissions=[],
        transitions=[],
    )
    _apply(session, project, values)
    session.add(project)
    _save(session, actor, values.get("external_id"))
    return get_project(session, actor=actor, project_id=project.id)


def update_project(
    session: Session,
    *,
    actor: Actor,
    project_id: uuid.UUID,
    changes: Mapping[str, Any],
    if_match: Collection[int] | None,
) -> Project:
    """Change the fields sent; ``domains`` and ``team_ids`` sent replace the previous lists."""
    project = get_project(session, actor=actor, project_id=project_id)
    check_version(project.version, if_match)
    values = dict(changes)
    _check_results(project.state, values)
    _check_users(session, values)
    if "follower_id" in values and "team_ids" not in values:
        # A new follower who was in the team is now the follower only.
        values["team_ids"] = [member.user_id for member in project.team]
    with session.no_autoflush:
        _apply(session, project, values)
    if session.is_modified(project, include_collections=True):
        project.updated_at = utcnow()  # moves the version (ETag) when only lists change
    _save(session, actor, project.external_id)
    return get_project(session, actor=actor, project_id=project.id)


def upsert_project_by_external_id(
    session: Session,
    *,
    actor: Actor,
    external_id: str,
    fields: Mapping[str, Any],
    if_match: Collection[int] | None,
) -> tuple[Project, bool]:
    """Create the project an importer knows as ``external_id``, or update the fields it sent.

    A confidential project ``actor`` may not see keeps its external_id: 409, pointing nowhere.
    """
    external_id = external_id_from_path(external_id)
    values = {**fields, "external_id": external_id}
    existing_id = session.scalar(select(Project.id).where(Project.external_id == external_id))
    if existing_id is None:
        try:
            return create_project(session, actor=actor, **values), True
        except Conflict as exc:
            existing_id = session.scalar(
                select(Project.id).where(Project.external_id == external_id)
            )
            if exc.field != "external_id" or existing_id is None:
                raise
    try:
        project = update_project(
            session, actor=actor, project_id=existing_id, changes=values, if_match=if_match
        )
    except NotFound:
        raise _duplicate(session, actor, external_id) from None
    return project, False


def delete_project(
    session: Session, *, actor: Actor, project_id: uuid.UUID, if_match: Collection[int] | None
) -> None:
    """Delete a project recorded by mistake: only an idea (409 later: abandon it instead)."""
    project = get_project(session, actor=actor, project_id=project_id)
    check_version(project.version, if_match)
    if project.state != ProjectState.IDEA:
        raise Conflict(
            f"Only a project in state idea may be deleted; this one is {project.state}: "
            "move it to abandoned instead."
        )
    session.delete(project)
    commit(session)


def allowed_next(state: str) -> list[str]:
    return [next_state.value for next_state in PROJECT_TRANSITIONS[ProjectState(state)]]


@functools.cache
def _allowed_next(state: str) -> tuple[str, ...]:
    """``allowed_next`` worked out once per state, for reading only."""
    return tuple(allowed_next(state))


def transition_project(
    session: Session,
    *,
    actor: Actor,
    project_id: uuid.UUID,
    to: str,
    on: date | None = None,
    note: str | None = None,
    may_label: bool,
    if_match: Collection[int] | None,
) -> Project:
    """Move the project to state ``to``, dated ``on`` (default today) and signed by ``actor``.

    Only the moves of ``PROJECT_TRANSITIONS`` are accepted: any other is a 409 naming the
    current state and the allowed next ones. Recording the label outcome (``labelled``,
    ``refused``, ``support_letter``) needs the ``projects:label`` scope (403). On submission,
    the partners' categories are copied again from their members and then stay frozen.
    The project row is locked, so two concurrent moves from one state cannot both pass.
    """
    project = get_project(session, actor=actor, project_id=project_id, lock=True)
    check_version(project.version, if_match)
    target = ProjectState(to)
    if target in LABEL_STATES and not may_label:
        raise PermissionDenied(f"Recording a label decision needs the {LABEL_SCOPE!r} scope.")
    allowed = allowed_next(project.state)
    if target.value not in allowed:
        allowed_text = ", ".join(allowed) if allowed else "none (a final state)"
        raise Conflict(
            f"A project in state {project.state} cannot move to {target.value}; "
            f"allowed next states: {allowed_text}.",
            field="to",
        )
    day = on or date.today()
    if day < project.state_since:
        raise InvalidInput(
            {"on": [f"Must not be before the current state's start ({project.state_since})."]}
        )
    project.transitions.append(
        ProjectTransition(
            from_state=project.state, to_state=target.value, on=day, by_user_id=actor.id, note=note
        )
    )
    project.state = target.value
    project.state_since = day
    if target is ProjectState.SUBMITTED:
        _freeze_categories(session, project)
    record_action(session, project, "transitioned")
    commit(session)
    return get_project(session, actor=actor, project_id=project.id)


def _freeze_categories(session: Session, project: Project) -> None:
    """Copy each member partner's category as it is on the day of submission."""
    member_ids = [partner.member_id for partner in project.partners if partner.member_id]
    if not member_ids:
        return
    categories = dict(
        session.execute(select(Member.id, Member.category).where(Member.id.in_(member_ids))).all()
    )
    for partner in project.partners:
        if partner.member_id in categories:
            partner.category = categories[partner.member_id]
