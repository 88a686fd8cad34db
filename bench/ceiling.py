"""The bare stack: the questions mrm answers, asked with the same SQL through psycopg directly.

Run under the same gunicorn settings as mrm (``gunicorn -c python:api.gunicorn_config
bench.ceiling:app``). What it keeps from a real API: a bearer token checked on every request, the
same SQL statements mrm sends (read from services/members.py and captured with SQLAlchemy's
echo), including the journal entry of every write in mrm's own one statement, and the same JSON
body. What it drops: the framework layers (flask-smorest, webargs, marshmallow), the ORM and
the access log.

Auth: the token is an HS256 JWT decoded and verified with PyJWT, then its login is looked up with
the same SQL statement mrm sends on every request (the user is active and the login not
revoked: revocation that holds across workers is a design requirement), on the connection the
request's other statements use, and the scope checked against the token and the role. As mrm
does on PostgreSQL, each process remembers the logins it has checked (``MRM_LOGIN_CACHE=0``
turns both off; results up to 2026-12-05 were measured with a lookup on every request). So the
ratio mrm / ceiling measures only mrm's Python. ``MRM_CEILING_LOGIN_CHECK=0`` drops the lookup,
as the ceiling did before (results up to 2026-11-26 were measured that way).

Each worker opens its own psycopg_pool ConnectionPool lazily on its first request, after
gunicorn's fork, so no connection crosses the fork.
"""

import base64
import json
import os
import threading
import uuid
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import jwt
import psycopg
from flask import Flask, Response, g, request
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool
from sqlalchemy.dialects import postgresql

import services.webhooks  # noqa: F401 - adds the webhook outbox mrm writes with its journal
from models import PROJECT_TRANSITIONS, ProjectState
from services import contact_views, journal, member_views
from services.commit_statements import CommitStatement, commit_pipelined
from services.member_memberships import member_since, membership_summary
from services.membership_status import status_on
from services.roles import scopes_for_role
from services.text import fold

app = Flask("ceiling")
_pool: ConnectionPool | None = None
_pool_lock = threading.Lock()
SECRET = os.environ.get("JWT_SECRET_KEY", "")


def pool() -> ConnectionPool:
    global _pool  # noqa: PLW0603 - one pool per worker process, made on first use
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
                size = int(os.environ.get("MRM_THREADS", "4"))
                _pool = ConnectionPool(
                    url, min_size=1, max_size=max(size, 1), kwargs={"row_factory": dict_row}
                )
    return _pool


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(type(value).__name__)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, default=_default, ensure_ascii=False),
        status=status,
        headers=headers,
        mimetype="application/json",
    )


def problem(status: int, detail: str) -> Response:
    return json_response({"status": status, "detail": detail}, status)


LOGIN_CHECK = os.environ.get("MRM_CEILING_LOGIN_CHECK", "1") != "0"
# mrm remembers each login's check per process on PostgreSQL (services/login_cache.py, on
# unless MRM_LOGIN_CACHE=0), forgotten when the database notifies a change: the ceiling
# remembers it too, from the same statement on a miss (nothing is revoked during a run).
LOGIN_CACHE = os.environ.get("MRM_LOGIN_CACHE", "1") != "0"
_known_logins: dict[tuple[uuid.UUID, uuid.UUID], str] = {}

# services/principals.py: the statement mrm runs on every authenticated request.
SQL_OPEN_LOGIN_ROLE = """SELECT users.role
FROM users JOIN auth_sessions ON auth_sessions.user_id = users.id
WHERE users.id = %(user_id)s::UUID AND users.is_active IS true
AND auth_sessions.id = %(session_id)s::UUID AND auth_sessions.revoked_at IS NULL"""


def token_scopes(cursor: Any) -> frozenset[str] | None:
    """The scopes of a valid bearer access token whose login is open, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    try:
        claims = jwt.decode(token.strip(), SECRET, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    if claims.get("type") != "access":
        return None
    scopes = frozenset(str(claims.get("scope", "")).split())
    if not LOGIN_CHECK:
        return scopes
    try:
        login = {"user_id": uuid.UUID(claims["sub"]), "session_id": uuid.UUID(claims["sid"])}
    except (KeyError, ValueError):
        return None
    g.user_id = login["user_id"]
    key = (login["user_id"], login["session_id"])
    role = _known_logins.get(key) if LOGIN_CACHE else None
    if role is None:
        row = cursor.execute(SQL_OPEN_LOGIN_ROLE, login).fetchone()
        if row is None:
            return None
        role = row["role"]
        if LOGIN_CACHE:
            _known_logins[key] = role
    return scopes & scopes_for_role(role)


def write_journal(connection: Any, event_type: str, resource_type: str, resource_id: Any) -> None:
    """The journal entry mrm writes with every change, with the statement it sends on
    PostgreSQL (``services.journal.postgresql_write``: the advisory lock, the entry and the
    webhook outbox rows in one statement), sent with the COMMIT in one round trip as mrm
    sends it (``services.commit_statements``), so that writes compare like with like."""
    now = datetime.now(UTC)
    sql, outbox_params = journal.postgresql_write([resource_type], now)
    params = {
        "occurred_at": now, "actor_user_id": g.get("user_id"), "api_client_id": None,
        "request_id": uuid.uuid4().hex, "source": "api",
        "entries": journal.entries_json([(event_type, resource_type, resource_id, None)]),
    }  # fmt: skip
    commit_pipelined(connection, [CommitStatement(sql, params | outbox_params)])


def require(scope: str, cursor: Any) -> Response | None:
    scopes = token_scopes(cursor)
    if scopes is None:
        return problem(401, "Missing or invalid token.")
    if scope not in scopes:
        return problem(403, f"This action needs the {scope!r} scope.")
    return None


@app.get("/healthz")
def healthz() -> Response:
    return json_response({"status": "ok"})


# --- SQL: the statements mrm's services send (captured with a cursor-execute listener) -----

MEMBER_COLUMNS = """members.name, members.legal_name, members.category, members.siren,
members.siret, members.vat_number, members.headcount_band, members.year_founded,
members.website, members.email, members.phone, members.street, members.postal_code,
members.city, members.country, members.departement, members.description, members.parent_id,
members.external_id, members.archived_at, members.archive_reason, members.restored_at,
members.restore_reason, members.search_text,
members.sort_name, members.id, members.created_at, members.updated_at, members.version"""

# services/members.py: contacts not archived whose affiliation has not ended.
CONTACTS_COUNT = """(SELECT count(affiliations.id) AS count_1
FROM affiliations JOIN contacts ON contacts.id = affiliations.contact_id
WHERE affiliations.member_id = members.id AND contacts.archived_at IS NULL
AND (affiliations.end_date IS NULL OR affiliations.end_date >= CURRENT_DATE))
AS contacts_count"""

# joinedload(Member.parent): the whole parent row comes along, aliased, as SQLAlchemy sends it.
PARENT_COLUMNS = ", ".join(
    f"members_1.{column.strip()} AS parent_{column.strip()}"
    for column in MEMBER_COLUMNS.replace("members.", "").replace("\n", " ").split(",")
)
PARENT_JOIN = "LEFT OUTER JOIN members AS members_1 ON members_1.id = members.parent_id"


def _postgresql_text(stmt: Any) -> str:
    """mrm's statement as the SQL text it sends on PostgreSQL (``services.driver_rows``)."""
    return str(stmt.compile(dialect=postgresql.dialect()))


# One member: its columns, parent name, contact count and a row per domain, as
# services/member_views.py reads it.
SQL_MEMBER_BY_ID = _postgresql_text(member_views.member_statement())

# A page of members without ``as_of``: services/member_views.py's columns (the filters are
# written here), then the page's domains with ``= ANY`` of the ids.
SQL_MEMBER_ROWS = _postgresql_text(member_views.list_member_rows(archived=None))
SQL_MEMBER_ROWS_PAGE = (
    f"{SQL_MEMBER_ROWS} WHERE members.archived_at IS NULL {{filters}} "
    "ORDER BY members.sort_name ASC, members.id ASC LIMIT %(limit)s::INTEGER"
)
SQL_DOMAINS_OF_PAGE = _postgresql_text(member_views.domains_of_members(True))

SQL_MEMBERS_PAGE = (
    f"SELECT {CONTACTS_COUNT}, {MEMBER_COLUMNS}, {PARENT_COLUMNS} FROM members {PARENT_JOIN} "
    "WHERE members.archived_at IS NULL {filters} "
    "ORDER BY members.sort_name ASC, members.id ASC LIMIT %(limit)s::INTEGER"
)

# selectinload(Member.domains) for pages, as SQLAlchemy sends it.
SQL_DOMAINS_OF = """SELECT member_domains.member_id, domains.code, domains.label,
domains.is_active, domains.id, domains.created_at, domains.updated_at, domains.version
FROM member_domains JOIN domains ON domains.id = member_domains.domain_id
WHERE member_domains.member_id IN ({ids}) ORDER BY domains.code"""

SQL_INSERT_MEMBER = """INSERT INTO members (name, legal_name, category, siren, siret,
vat_number, headcount_band, year_founded, website, email, phone, street, postal_code, city,
country, departement, description, parent_id, external_id, archived_at, archive_reason,
search_text, sort_name, id, created_at, updated_at, version) VALUES (%(name)s::VARCHAR, NULL,
%(category)s::VARCHAR, %(siren)s::VARCHAR, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
%(postal_code)s::VARCHAR, %(city)s::VARCHAR, 'FR', %(departement)s::VARCHAR, NULL, NULL, NULL,
NULL, NULL, %(search_text)s, %(sort_name)s::VARCHAR, %(id)s::UUID, %(now)s, %(now)s, 1)"""

OUT_FIELDS = (
    "id", "name", "legal_name", "category", "siren", "siret", "vat_number", "headcount_band",
    "year_founded", "website", "email", "phone", "street", "postal_code", "city", "country",
    "departement", "description",
)  # fmt: skip


def _member_out(
    row: dict[str, Any], domains: list[dict[str, Any]], parent: dict[str, Any] | None
) -> dict[str, Any]:
    """The same keys, in the same order, as schemas.members.MemberOut."""
    out = {name: row[name] for name in OUT_FIELDS}
    out["parent"] = {"id": parent["id"], "name": parent["name"]} if parent else None
    out["domains"] = domains
    out["contacts_count"] = row["contacts_count"]
    out["external_id"] = row["external_id"]
    out["is_archived"] = row["archived_at"] is not None
    out["archived_at"] = row["archived_at"]
    out["archive_reason"] = row["archive_reason"]
    out["restored_at"] = row["restored_at"]
    out["restore_reason"] = row["restore_reason"]
    out["created_at"] = row["created_at"]
    out["updated_at"] = row["updated_at"]
    return out


def _in_list(cursor: Any, sql: str, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    placeholders = ", ".join(["%s::UUID"] * len(ids))
    return cursor.execute(sql.replace("{ids}", placeholders), ids).fetchall()


def _parent_of(row: dict[str, Any]) -> dict[str, Any] | None:
    return {"id": row["parent_id"], "name": row["parent_name"]} if row["parent_id"] else None


def _member_rows_out(cursor: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A page read as mrm reads it without ``as_of``: the domains in one more statement."""
    ids = [row["id"] for row in rows]
    domains: dict[uuid.UUID, list[dict[str, Any]]] = {member_id: [] for member_id in ids}
    for row in cursor.execute(SQL_DOMAINS_OF_PAGE, {"ids": ids}).fetchall():
        domains[row["member_id"]].append({"code": row["code"], "label": row["label"]})
    return [_member_out(row, domains[row["id"]], _parent_of(row)) for row in rows]


def _members_out(cursor: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Embed domains with the one extra query mrm's loader options send for a page."""
    ids = [row["id"] for row in rows]
    domains: dict[uuid.UUID, list[dict[str, Any]]] = {member_id: [] for member_id in ids}
    for row in _in_list(cursor, SQL_DOMAINS_OF, ids):
        domains[row["member_id"]].append({"code": row["code"], "label": row["label"]})
    return [_member_out(row, domains[row["id"]], _parent_of(row)) for row in rows]


# services/member_memberships.py: a membership active on a day (status_condition), and the two
# selectinloads of a page read "as of" a day (memberships, then their payments).
SQL_ACTIVE_ON = """AND (EXISTS (SELECT * FROM memberships WHERE memberships.member_id = members.id
AND (memberships.cancelled_on IS NULL OR memberships.cancelled_on > %(as_of)s::DATE)
AND memberships.start_date <= %(as_of)s::DATE AND memberships.end_date >= %(as_of)s::DATE
AND (memberships.approved_on IS NOT NULL AND memberships.approved_on <= %(as_of)s::DATE
OR (SELECT coalesce(sum(membership_payments.amount_cents), 0) AS coalesce_1
FROM membership_payments WHERE membership_payments.membership_id = memberships.id
AND membership_payments.paid_on <= %(as_of)s::DATE) >= memberships.fee_cents)))"""
MEMBERSHIP_COLUMNS = """memberships.member_id, memberships.plan_id, memberships.year,
memberships.start_date, memberships.end_date, memberships.grace_until, memberships.approved_on,
memberships.cancelled_on, memberships.cancel_reason, memberships.fee_cents,
memberships.currency, memberships.schedule_fee_cents, memberships.fee_basis,
memberships.fee_override_reason, memberships.declared_turnover_cents, memberships.exemption,
memberships.notes, memberships.external_id, memberships.renewal_of_id, memberships.campaign_id,
memberships.id, memberships.created_at, memberships.updated_at, memberships.version"""
SQL_MEMBERSHIPS_OF = """SELECT memberships.member_id, memberships.plan_id,
memberships.start_date, memberships.end_date, memberships.grace_until, memberships.approved_on,
memberships.cancelled_on, memberships.fee_cents, memberships.id FROM memberships
WHERE memberships.member_id IN ({ids}) ORDER BY memberships.start_date"""
SQL_PAYMENTS_OF = """SELECT membership_payments.membership_id, membership_payments.amount_cents,
membership_payments.paid_on, membership_payments.id
FROM membership_payments WHERE membership_payments.membership_id IN ({ids})
ORDER BY membership_payments.paid_on, membership_payments.created_at"""


def _add_standing(
    cursor: Any, data: list[dict[str, Any]], rows: list[dict[str, Any]], as_of: date
) -> None:
    """Each row's current membership and ``member_since`` on ``as_of``, from the same two
    queries mrm's loader sends; the status rule itself is mrm's (plain functions, no ORM)."""
    ids = [row["id"] for row in rows]
    memberships = _in_list(cursor, SQL_MEMBERSHIPS_OF, ids)
    payments: dict[uuid.UUID, list[SimpleNamespace]] = {m["id"]: [] for m in memberships}
    if memberships:
        for row in _in_list(cursor, SQL_PAYMENTS_OF, list(payments)):
            payments[row["membership_id"]].append(SimpleNamespace(**row))
    of_member: dict[uuid.UUID, list[SimpleNamespace]] = {member_id: [] for member_id in ids}
    for row in memberships:
        of_member[row["member_id"]].append(SimpleNamespace(**row, payments=payments[row["id"]]))
    for out in data:
        member = SimpleNamespace(memberships=of_member[out["id"]], membership_as_of=as_of)
        out["membership"] = membership_summary(member)
        out["member_since"] = member_since(member)


# services/memberships.py get_membership: the plan joined in, the payments made by ``as_of``.
SQL_MEMBERSHIP_BY_ID = f"""SELECT (SELECT coalesce(sum(membership_payments.amount_cents), 0)
AS coalesce_1 FROM membership_payments
WHERE membership_payments.membership_id = memberships.id
AND membership_payments.paid_on <= %(as_of)s::DATE) AS paid_cents, %(as_of)s::DATE AS as_of,
{MEMBERSHIP_COLUMNS}, membership_plans_1.code, membership_plans_1.name,
membership_plans_1.period_type, membership_plans_1.grace_days, membership_plans_1.late_join_policy,
membership_plans_1.late_join_month, membership_plans_1.benefits, membership_plans_1.is_active,
membership_plans_1.id AS id_1, membership_plans_1.created_at AS created_at_1,
membership_plans_1.updated_at AS updated_at_1, membership_plans_1.version AS version_1
FROM memberships LEFT OUTER JOIN membership_plans AS membership_plans_1
ON membership_plans_1.id = memberships.plan_id WHERE memberships.id = %(id)s::UUID"""


@app.get("/api/v1/memberships/<uuid:membership_id>")
def get_membership(membership_id: uuid.UUID) -> Response:
    as_of = date.fromisoformat(request.args["as_of"]) if "as_of" in request.args else date.today()
    with pool().connection() as connection, connection.cursor() as cursor:
        if refused := require("memberships:read", cursor):
            return refused
        row = cursor.execute(SQL_MEMBERSHIP_BY_ID, {"id": membership_id, "as_of": as_of}).fetchone()
    if row is None:
        return problem(404, "No such membership.")
    status = status_on(SimpleNamespace(**row), as_of=as_of, paid_cents=row["paid_cents"])
    body = {
        "id": row["id"], "member_id": row["member_id"],
        "plan": {"id": row["plan_id"], "code": row["code"], "name": row["name"]},
        "year": row["year"], "start_date": row["start_date"], "end_date": row["end_date"],
        "grace_until": row["grace_until"], "as_of": row["as_of"], "status": status.value,
        "approved_on": row["approved_on"], "cancelled_on": row["cancelled_on"],
        "cancel_reason": row["cancel_reason"], "fee_cents": row["fee_cents"],
        "currency": row["currency"], "schedule_fee_cents": row["schedule_fee_cents"],
        "fee_override_reason": row["fee_override_reason"], "fee_basis": row["fee_basis"],
        "turnover_cents": row["declared_turnover_cents"], "exemption": row["exemption"],
        "paid_cents": row["paid_cents"], "balance_cents": row["fee_cents"] - row["paid_cents"],
        "notes": row["notes"], "external_id": row["external_id"],
        "renewal_of_id": row["renewal_of_id"], "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }  # fmt: skip
    return json_response(body, headers={"ETag": f'"v{row["version"]}"'})


def _cursor_of(sort: str, value: Any, last_id: uuid.UUID) -> str:
    raw = json.dumps({"s": sort, "v": [value, str(last_id)]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@app.get("/api/v1/members/<uuid:member_id>")
def get_member(member_id: uuid.UUID) -> Response:
    with pool().connection() as connection, connection.cursor() as cursor:
        if refused := require("members:read", cursor):
            return refused
        rows = cursor.execute(SQL_MEMBER_BY_ID, {"member_id": member_id}).fetchall()
        if not rows:
            return problem(404, "No such member.")
        row = rows[0]
        domains = [
            {"code": r["domain_code"], "label": r["domain_label"]} for r in rows if r["domain_code"]
        ]
        member = _member_out(row, domains, _parent_of(row))
    return json_response(member, headers={"ETag": f'"v{row["version"]}"'})


@app.get("/api/v1/members")
def list_members() -> Response:
    limit = min(int(request.args.get("limit", 50)), 200)
    params: dict[str, Any] = {"limit": limit + 1}
    filters = []
    if "category" in request.args:
        filters.append("AND members.category = %(category)s::VARCHAR")
        params["category"] = request.args["category"]
    if "departement" in request.args:
        filters.append("AND members.departement = %(departement)s::VARCHAR")
        params["departement"] = request.args["departement"]
    for index, term in enumerate(fold(request.args.get("q", "")).split()):
        filters.append(f"AND members.search_text LIKE %(term_{index})s::VARCHAR ESCAPE '\\'")
        params[f"term_{index}"] = _like(term)
    as_of = date.fromisoformat(request.args["as_of"]) if "as_of" in request.args else None
    if request.args.get("membership_status") == "active":
        filters.append(SQL_ACTIVE_ON)
        params["as_of"] = as_of or date.today()
    # As mrm: ORM members with their memberships when read as of a day, plain rows otherwise.
    page = SQL_MEMBERS_PAGE if as_of is not None else SQL_MEMBER_ROWS_PAGE
    sql = page.replace("{filters}", " ".join(filters))
    with pool().connection() as connection, connection.cursor() as cursor:
        if refused := require("members:read", cursor):
            return refused
        rows = cursor.execute(sql, params).fetchall()
        if as_of is None:
            data = _member_rows_out(cursor, rows) if rows else []
        else:
            data = _members_out(cursor, rows) if rows else []
            if rows:
                _add_standing(cursor, data, rows[: limit + 1], as_of)
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _cursor_of("name", last["sort_name"], last["id"])
    return json_response({"data": data[:limit], "next_cursor": next_cursor})


@app.post("/api/v1/members")
def create_member() -> Response:
    """Insert (a taken SIREN is refused by the constraint); the response is built from what was
    inserted."""
    body = request.get_json()
    name = body["name"].strip()
    now = datetime.now(UTC)
    member = {
        "id": uuid.uuid4(),
        "now": now,
        "name": name,
        "category": body["category"],
        "siren": body.get("siren"),
        "postal_code": body.get("postal_code"),
        "city": body.get("city"),
        "departement": (body.get("postal_code") or "")[:2] or None,
        "search_text": " ".join(
            part for part in (fold(name), body.get("siren"), fold(body.get("city"))) if part
        ),
        "sort_name": fold(name),
    }
    with pool().connection() as connection, connection.cursor() as cursor:
        if refused := require("members:write", cursor):
            return refused
        try:
            cursor.execute(SQL_INSERT_MEMBER, member)
        except psycopg.errors.UniqueViolation:  # as mrm: the constraint decides, no pre-check
            return problem(409, "A member with this SIREN already exists.")
        write_journal(connection, "member.created", "member", member["id"])
    row = {name: None for name in OUT_FIELDS} | member
    row.update(country="FR", contacts_count=0, external_id=None, archived_at=None)
    row.update(archive_reason=None, restored_at=None, restore_reason=None)
    row.update(created_at=now, updated_at=now)
    return json_response(
        _member_out(row, [], None),
        201,
        headers={"Location": f"/api/v1/members/{member['id']}", "ETag": '"v1"'},
    )


CONTACT_COLUMNS = """contacts.first_name, contacts.last_name, contacts.email, contacts.phones,
contacts.preferred_language, contacts.notes, contacts.external_id, contacts.archived_at,
contacts.archive_reason, contacts.restored_at, contacts.restore_reason, contacts.search_text,
contacts.sort_name, contacts.id,
contacts.created_at, contacts.updated_at, contacts.version"""

# services/contact_views.py: the page's columns (the filters are written here), then every
# affiliation of the page with its member's name, with ``= ANY`` of the ids.
SQL_CONTACTS_PAGE = (
    f"{_postgresql_text(contact_views.list_contact_rows(archived=None))} "
    "WHERE contacts.archived_at IS NULL {filters} "
    "ORDER BY contacts.sort_name ASC, contacts.id ASC LIMIT %(limit)s::INTEGER"
)
SQL_AFFILIATIONS_OF_PAGE = _postgresql_text(contact_views.affiliations_of_contacts(True))

CONTACT_FIELDS = (
    "id", "first_name", "last_name", "email", "phones", "preferred_language", "notes",
    "external_id",
)  # fmt: skip
AFFILIATION_FIELDS = ("job_title", "roles", "start_date", "end_date", "is_primary")


def _affiliation_out(row: dict[str, Any]) -> dict[str, Any]:
    out = {"id": row["id"], "contact_id": row["contact_id"], "member_id": row["member_id"]}
    out["member"] = {"id": row["member_id"], "name": row["member_name"]}
    out.update({name: row[name] for name in AFFILIATION_FIELDS})
    out["created_at"] = row["created_at"]
    out["updated_at"] = row["updated_at"]
    return out


@app.get("/api/v1/contacts")
def list_contacts() -> Response:
    limit = min(int(request.args.get("limit", 50)), 200)
    params: dict[str, Any] = {"limit": limit + 1}
    filters = []
    for index, term in enumerate(fold(request.args.get("q", "")).split()):
        filters.append(f"AND contacts.search_text LIKE %(term_{index})s::VARCHAR ESCAPE '\\'")
        params[f"term_{index}"] = _like(term)
    sql = SQL_CONTACTS_PAGE.replace("{filters}", " ".join(filters))
    with pool().connection() as connection, connection.cursor() as cursor:
        if refused := require("contacts:read", cursor):
            return refused
        rows = cursor.execute(sql, params).fetchall()
        ids = [row["id"] for row in rows[:limit]]
        affiliations = (
            cursor.execute(SQL_AFFILIATIONS_OF_PAGE, {"ids": ids}).fetchall() if ids else []
        )
    by_contact: dict[uuid.UUID, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
    for affiliation in affiliations:
        by_contact[affiliation["contact_id"]].append(_affiliation_out(affiliation))
    for listed in by_contact.values():  # the primary first, then as recorded
        listed.sort(key=lambda a: (not a["is_primary"], a["created_at"], a["id"]))
    data = []
    for row in rows[:limit]:
        out = {name: row[name] for name in CONTACT_FIELDS}
        out["is_archived"] = row["archived_at"] is not None
        out["archived_at"] = row["archived_at"]
        out["archive_reason"] = row["archive_reason"]
        out["restored_at"] = row["restored_at"]
        out["restore_reason"] = row["restore_reason"]
        out["affiliations"] = by_contact[row["id"]]
        out["created_at"] = row["created_at"]
        out["updated_at"] = row["updated_at"]
        data.append(out)
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _cursor_of("last_name", last["sort_name"], last["id"])
    return json_response({"data": data, "next_cursor": next_cursor})


INTERACTION_COLUMNS = """interactions.kind, interactions.type, interactions.channel,
interactions.subject, interactions.notes, interactions.outcome, interactions.minutes_spent,
interactions.occurred_at, interactions.owner_id, interactions.confidential,
interactions.external_id, interactions.source, interactions.follow_up_due,
interactions.follow_up_assignee_id, interactions.follow_up_done, interactions.follow_up_done_at,
interactions.search_text, interactions.archived_at, interactions.archive_reason,
interactions.restored_at, interactions.restore_reason, interactions.id, interactions.created_at,
interactions.updated_at, interactions.version"""

# services/interactions.py for an admin (who sees confidential ones too): newest first.
SQL_INTERACTIONS_PAGE = (
    f"SELECT {INTERACTION_COLUMNS} FROM interactions WHERE interactions.archived_at IS NULL "
    "{filters} ORDER BY interactions.occurred_at DESC, interactions.id DESC "
    "LIMIT %(limit)s::INTEGER"
)
# The three selectinloads of a page.
SQL_INTERACTION_LINKS = {
    "members": "SELECT interaction_id, member_id, role FROM interaction_members "
    "WHERE interaction_id IN ({ids})",
    "contacts": "SELECT interaction_id, contact_id, role FROM interaction_contacts "
    "WHERE interaction_id IN ({ids})",
    "participants": "SELECT interaction_id, user_id FROM interaction_participants "
    "WHERE interaction_id IN ({ids})",
}
INTERACTION_FIELDS = (
    "id", "kind", "type", "channel", "subject", "notes", "outcome", "minutes_spent",
    "occurred_at",
)  # fmt: skip
INTERACTION_TAIL = (
    "confidential", "external_id", "source", "follow_up_due", "follow_up_assignee_id",
    "follow_up_done", "follow_up_done_at",
)  # fmt: skip


@app.get("/api/v1/interactions")
def list_interactions() -> Response:
    limit = min(int(request.args.get("limit", 50)), 200)
    params: dict[str, Any] = {"limit": limit + 1}
    filters = []
    for index, term in enumerate(fold(request.args.get("q", "")).split()):
        filters.append(f"AND interactions.search_text LIKE %(term_{index})s::VARCHAR ESCAPE '\\'")
        params[f"term_{index}"] = _like(term)
    sql = SQL_INTERACTIONS_PAGE.replace("{filters}", " ".join(filters))
    with pool().connection() as connection, connection.cursor() as cursor:
        if refused := require("interactions:read", cursor):
            return refused
        rows = cursor.execute(sql, params).fetchall()
        ids = [row["id"] for row in rows]
        links = {
            name: _in_list(cursor, query, ids) if ids else []
            for name, query in SQL_INTERACTION_LINKS.items()
        }
    members: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in ids}
    contacts: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in ids}
    participants: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
    for link in links["members"]:
        members[link["interaction_id"]].append(
            {"member_id": link["member_id"], "role": link["role"]}
        )
    for link in links["contacts"]:
        contacts[link["interaction_id"]].append(
            {"contact_id": link["contact_id"], "role": link["role"]}
        )
    for link in links["participants"]:
        participants[link["interaction_id"]].append(str(link["user_id"]))
    data = []
    for row in rows[:limit]:
        out = {name: row[name] for name in INTERACTION_FIELDS}
        out["members"] = members[row["id"]]
        out["contacts"] = contacts[row["id"]]
        out["owner_id"] = row["owner_id"]
        out["participant_ids"] = sorted(participants[row["id"]])
        out.update({name: row[name] for name in INTERACTION_TAIL})
        out["is_archived"] = row["archived_at"] is not None
        for name in ("archived_at", "archive_reason", "restored_at", "restore_reason"):
            out[name] = row[name]
        out["created_at"] = row["created_at"]
        out["updated_at"] = row["updated_at"]
        data.append(out)
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _cursor_of("-occurred_at", last["occurred_at"].isoformat(), last["id"])
    return json_response({"data": data, "next_cursor": next_cursor})


# services/timeline.py for a member: one UNION ALL, keyset on (time, kind, id), newest first;
# interactions, the member record, event registrations and check-ins, R&D projects (the bench
# user is an admin: no confidentiality condition) and memberships (services/membership_timeline.py).
_PLAN_ITEM = """SELECT {at}, CAST('{kind}' AS VARCHAR(30)), memberships.id,
CAST('{prefix}' || membership_plans.name AS VARCHAR(200)), CAST('memberships' AS VARCHAR(30)),
memberships.id
FROM memberships JOIN membership_plans ON membership_plans.id = memberships.plan_id
WHERE memberships.member_id = %(id)s::UUID AND {where}"""
_PAYMENT_ITEM = """SELECT timezone('UTC', CAST(membership_payments.paid_on AS TIMESTAMP)),
CAST('{kind}' AS VARCHAR(30)), membership_payments.id, CAST('{summary}' AS VARCHAR(200)),
CAST('memberships' AS VARCHAR(30)), memberships.id
FROM membership_payments JOIN memberships ON memberships.id = membership_payments.membership_id
WHERE memberships.member_id = %(id)s::UUID AND membership_payments.amount_cents {sign} 0"""
_START = "timezone('UTC', CAST(memberships.start_date AS TIMESTAMP))"
SQL_MEMBER_TIMELINE = f"""SELECT timeline.at, timeline.kind, timeline.id, timeline.summary,
timeline.resource, timeline.link FROM (
SELECT interactions.occurred_at AS at, CAST('interaction' AS VARCHAR(30)) AS kind,
interactions.id AS id, CAST(interactions.subject AS VARCHAR(200)) AS summary,
CAST('interactions' AS VARCHAR(30)) AS resource, interactions.id AS link
FROM interactions JOIN interaction_members
ON interaction_members.interaction_id = interactions.id
WHERE interaction_members.member_id = %(id)s::UUID
UNION ALL
SELECT members.created_at, CAST('record.created' AS VARCHAR(30)), members.id,
CAST('Member record created' AS VARCHAR(200)), CAST('members' AS VARCHAR(30)), members.id
FROM members WHERE members.id = %(id)s::UUID
UNION ALL
SELECT members.archived_at, CAST('record.archived' AS VARCHAR(30)), members.id,
CAST('Member archived' AS VARCHAR(200)), CAST('members' AS VARCHAR(30)), members.id
FROM members WHERE members.id = %(id)s::UUID AND members.archived_at IS NOT NULL
UNION ALL
SELECT registrations.registered_at, CAST('registration' AS VARCHAR(30)), registrations.id,
CAST('Event registration: ' || events.title AS VARCHAR(200)),
CAST('registrations' AS VARCHAR(30)), registrations.id
FROM registrations JOIN events ON events.id = registrations.event_id
WHERE registrations.member_id = %(id)s::UUID
UNION ALL
SELECT registrations.checked_in_at, CAST('registration.attended' AS VARCHAR(30)),
registrations.id, CAST('Attended: ' || events.title AS VARCHAR(200)),
CAST('registrations' AS VARCHAR(30)), registrations.id
FROM registrations JOIN events ON events.id = registrations.event_id
WHERE registrations.member_id = %(id)s::UUID AND registrations.checked_in_at IS NOT NULL
UNION ALL
SELECT project_partners.created_at, CAST('project' AS VARCHAR(30)), projects.id,
CAST(projects.acronym || ': ' || projects.title AS VARCHAR(200)),
CAST('projects' AS VARCHAR(30)), projects.id
FROM project_partners JOIN projects ON projects.id = project_partners.project_id
WHERE project_partners.member_id = %(id)s::UUID
UNION ALL
{_PLAN_ITEM.format(at=_START, kind="membership.created", prefix="Membership: ",
                   where="memberships.renewal_of_id IS NULL")}
UNION ALL
{_PLAN_ITEM.format(at=_START, kind="membership.renewed", prefix="Membership renewed: ",
                   where="memberships.renewal_of_id IS NOT NULL")}
UNION ALL
{_PAYMENT_ITEM.format(kind="membership.paid", summary="Membership payment", sign=">")}
UNION ALL
{_PAYMENT_ITEM.format(kind="membership.refunded", summary="Membership refund", sign="<")}
UNION ALL
{_PLAN_ITEM.format(at="timezone('UTC', CAST(memberships.cancelled_on AS TIMESTAMP))",
                   kind="membership.cancelled", prefix="Membership cancelled: ",
                   where="memberships.cancelled_on IS NOT NULL")}
UNION ALL
{_PLAN_ITEM.format(at="timezone('UTC', CAST((memberships.grace_until + 1) AS TIMESTAMP))",
                   kind="membership.lapsed", prefix="Membership lapsed: ",
                   where="memberships.cancelled_on IS NULL "
                   "AND memberships.grace_until < CURRENT_DATE AND NOT (EXISTS (SELECT * "
                   "FROM memberships AS following "
                   "WHERE following.member_id = memberships.member_id "
                   "AND following.start_date > memberships.start_date "
                   "AND following.start_date <= (memberships.grace_until + 1)))")}
) AS timeline ORDER BY timeline.at DESC, timeline.kind DESC, timeline.id DESC
LIMIT %(limit)s::INTEGER"""  # fmt: skip
SQL_MEMBER_ID = "SELECT members.id FROM members WHERE members.id = %(id)s::UUID"


@app.get("/api/v1/members/<uuid:member_id>/timeline")
def member_timeline(member_id: uuid.UUID) -> Response:
    limit = min(int(request.args.get("limit", 50)), 200)
    with pool().connection() as connection, connection.cursor() as cursor:
        if refused := require("interactions:read", cursor):
            return refused
        rows = cursor.execute(SQL_MEMBER_TIMELINE, {"id": member_id, "limit": limit + 1}).fetchall()
        # As mrm: only an empty page asks whether the member exists (one primary-key lookup).
        if not rows and cursor.execute(SQL_MEMBER_ID, {"id": member_id}).fetchone() is None:
            return problem(404, "No such member.")
    data = [
        {
            "kind": row["kind"],
            "at": row["at"],
            "summary": row["summary"],
            "id": row["id"],
            "href": f"/api/v1/{row['resource']}/{row['link']}",
        }
        for row in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = data[-1]
        raw = json.dumps(
            [last["at"].isoformat(), last["kind"], str(last["id"])], separators=(",", ":")
        )
        next_cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    return json_response({"data": data, "next_cursor": next_cursor})


SQL_MEMBER_EXISTS = f"SELECT {MEMBER_COLUMNS} FROM members WHERE members.id = %(id)s::UUID"


# --- Events: services/registrations.py ----------------------------------------------------

REGISTRATION_FIELDS = (
    "id", "event_id", "contact_id", "member_id", "guest_name", "guest_email",
    "guest_organisation", "guest_category", "role", "status", "waitlist_position", "price_cents",
    "price_basis", "currency", "notes", "registered_at", "cancelled_at", "checked_in_at",
    "promoted_at", "created_at", "updated_at",
)  # fmt: skip

# The columns a page shows, as services/registrations.py reads them.
REGISTRATION_COLUMNS = """registrations.event_id, registrations.contact_id,
registrations.member_id, registrations.guest_name, registrations.guest_email,
registrations.guest_organisation, registrations.guest_category, registrations.role,
registrations.status, registrations.registered_at, registrations.cancelled_at,
registrations.checked_in_at, registrations.promoted_at, registrations.price_cents,
registrations.price_basis, registrations.currency, registrations.notes, registrations.id,
registrations.created_at, registrations.updated_at"""

SQL_EVENT_EXISTS = "SELECT events.id FROM events WHERE events.id = %(id)s::UUID"

# The waiting-list rank of services/event_seats.waitlist_position_column, and the keyset page.
SQL_EVENT_REGISTRATIONS_PAGE = f"""SELECT {REGISTRATION_COLUMNS},
CASE WHEN (registrations.status = 'waitlisted')
THEN (SELECT count(*) AS count_1 FROM registrations AS registrations_1
WHERE registrations_1.event_id = registrations.event_id
AND registrations_1.status = 'waitlisted'
AND registrations_1.waitlist_number <= registrations.waitlist_number) END AS waitlist_position
FROM registrations WHERE registrations.event_id = %(id)s::UUID
ORDER BY registrations.registered_at ASC, registrations.id ASC LIMIT %(limit)s::INTEGER"""


@app.get("/api/v1/events/<uuid:event_id>/registrations")
def list_event_registrations(event_id: uuid.UUID) -> Response:
    limit = min(int(request.args.get("limit", 50)), 200)
    with pool().connection() as connection, connection.cursor() as cursor:
        if refused := require("events:read", cursor):
            return refused
        rows = cursor.execute(
            SQL_EVENT_REGISTRATIONS_PAGE, {"id": event_id, "limit": limit + 1}
        ).fetchall()
        # As mrm: the event is looked up only when the page is empty.
        if not rows and cursor.execute(SQL_EVENT_EXISTS, {"id": event_id}).fetchone() is None:
            return problem(404, "No such event.")
    data = [{name: row[name] for name in REGISTRATION_FIELDS} for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _cursor_of("registered_at", last["registered_at"].isoformat(), last["id"])
    return json_response({"data": data, "next_cursor": next_cursor})


# The event row locked for the seat count, as services/event_seats.lock_event_terms does.
SQL_LOCK_EVENT = """SELECT events.id, events.status, events.capacity,
events.registration_opens_at, events.registration_closes_at, events.starts_at, events.ends_at,
events.timezone, events.members_only, events.member_price_cents, events.non_member_price_cents,
events.currency FROM events WHERE events.id = %(id)s::UUID FOR UPDATE"""

# Only after the insert was refused by the partial unique index, as mrm's 409 names it.
SQL_ACTIVE_GUEST = """SELECT registrations.id FROM registrations
WHERE registrations.event_id = %(event_id)s::UUID
AND registrations.guest_email = %(guest_email)s::VARCHAR AND registrations.status != 'cancelled'"""

SQL_SEATS_TAKEN = """SELECT count(*) AS count_1 FROM registrations
WHERE registrations.event_id = %(event_id)s::UUID AND registrations.role = 'attendee'
AND registrations.status IN ('registered', 'attended')"""

SQL_INSERT_REGISTRATION = """INSERT INTO registrations (event_id, contact_id, member_id,
guest_name, guest_email, guest_organisation, guest_category, role, status, registered_at,
cancelled_at, checked_in_at, promoted_at, waitlist_number, price_cents, price_basis, currency,
notes, id, created_at, updated_at, version) VALUES (%(event_id)s::UUID, NULL, NULL,
%(guest_name)s::VARCHAR, %(guest_email)s::VARCHAR, %(guest_organisation)s::VARCHAR, NULL,
'attendee', %(status)s::VARCHAR, %(now)s, NULL, NULL, NULL, NULL, %(price_cents)s::INTEGER,
'non_member', %(currency)s::VARCHAR, NULL, %(id)s::UUID, %(now)s, %(now)s, 1)"""


@app.post("/api/v1/events/<uuid:event_id>/registrations")
def register(event_id: uuid.UUID) -> Response:
    """A guest attendee: lock the event, check status and window, count the seats when the
    event has a capacity, insert (a duplicate is refused by the unique index, then looked up
    for the answer); the response is built from what was inserted."""
    body = request.get_json()
    now = datetime.now(UTC)
    guest_email = body.get("guest_email", "").strip().lower() or None
    with pool().connection() as connection, connection.cursor() as cursor:
        if refused := require("events:write", cursor):
            return refused
        event = cursor.execute(SQL_LOCK_EVENT, {"id": event_id}).fetchone()
        if event is None:
            return problem(404, "No such event.")
        closes = event["registration_closes_at"] or event["ends_at"]
        if event["status"] != "published" or now >= closes or event["members_only"]:
            return problem(409, "Registration refused.")
        status = "registered"
        if event["capacity"] is not None:
            taken = cursor.execute(SQL_SEATS_TAKEN, {"event_id": event_id}).fetchone()["count_1"]
            if taken >= event["capacity"]:
                return problem(409, "The ceiling does not keep a waiting list.")
        row = {
            "id": uuid.uuid4(), "event_id": event_id, "now": now,
            "guest_name": body["guest_name"].strip(), "guest_email": guest_email,
            "guest_organisation": body.get("guest_organisation"), "status": status,
            "price_cents": event["non_member_price_cents"], "currency": event["currency"],
        }  # fmt: skip
        try:
            cursor.execute(SQL_INSERT_REGISTRATION, row)
        except psycopg.errors.UniqueViolation:
            connection.rollback()
            cursor.execute(SQL_ACTIVE_GUEST, {"event_id": event_id, "guest_email": guest_email})
            return problem(409, "Already registered.")
        write_journal(connection, "registration.created", "registration", row["id"])
    out = {name: None for name in REGISTRATION_FIELDS} | {
        "id": row["id"], "event_id": event_id, "guest_name": row["guest_name"],
        "guest_email": guest_email, "guest_organisation": row["guest_organisation"],
        "role": "attendee", "status": status, "price_cents": row["price_cents"],
        "price_basis": "non_member", "currency": row["currency"], "registered_at": now,
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    return json_response(
        out, 201, headers={"Location": f"/api/v1/registrations/{row['id']}", "ETag": '"v1"'}
    )


# --- projects: services/projects.py, the statements captured from mrm ----------------------

PROJECT_COLUMNS = """projects.acronym, projects.title, projects.summary, projects.trl_start,
projects.trl_target, projects.duration_months, projects.total_budget_cents, projects.currency,
projects.follower_id, projects.confidential, projects.external_id, projects.state,
projects.state_since, projects.products_launched, projects.patents_filed, projects.jobs_created,
projects.follow_on_funding_cents, projects.results_notes, projects.search_text, projects.id,
projects.created_at, projects.updated_at, projects.version"""

# The bench user is an admin: no visibility condition (services.projects.visibility). The
# page's rows, then their domains and team (services.projects.page_projects).
SQL_PROJECTS_PAGE = (
    f"SELECT {PROJECT_COLUMNS} FROM projects {{where}} "
    "ORDER BY projects.created_at DESC, projects.id DESC LIMIT %(limit)s::INTEGER"
)
PROJECT_FILTERS = {
    "state": "projects.state = %(state)s::VARCHAR",
    "programme": "EXISTS (SELECT * FROM project_submissions WHERE project_submissions.project_id "
    "= projects.id AND project_submissions.programme = %(programme)s::VARCHAR)",
    "domain": "EXISTS (SELECT 1 FROM domains, project_domains WHERE projects.id = "
    "project_domains.project_id AND domains.id = project_domains.domain_id AND domains.code = "
    "%(domain)s::VARCHAR)",
}
SQL_PROJECT_BY_ID = f"SELECT {PROJECT_COLUMNS} FROM projects WHERE projects.id = %(id)s::UUID"
# The page's ids as one array parameter, as mrm sends them on PostgreSQL.
SQL_PROJECT_LINKS = {
    "domains": """SELECT project_domains.project_id, domains.code, domains.label
FROM project_domains JOIN domains ON domains.id = project_domains.domain_id
WHERE project_domains.project_id = ANY (%(ids)s::UUID[]) ORDER BY domains.code""",
    "team": """SELECT project_staff.project_id, project_staff.user_id FROM project_staff
WHERE project_staff.project_id = ANY (%(ids)s::UUID[])""",
}
# A project's page (services.projects.read_project): plain rows, one statement per list.
SQL_PROJECT_PAGE = {
    "domains": """SELECT domains.code, domains.label FROM domains JOIN project_domains
ON project_domains.domain_id = domains.id WHERE project_domains.project_id = %(id)s::UUID
ORDER BY domains.code""",
    "team": "SELECT project_staff.user_id FROM project_staff "
    "WHERE project_staff.project_id = %(id)s::UUID",
    "partners": """SELECT project_partners.project_id, project_partners.member_id,
project_partners.organisation_name, project_partners.siren, project_partners.role,
project_partners.category, project_partners.budget_cents, project_partners.aid_requested_cents,
project_partners.aid_obtained_cents, project_partners.aid_form, project_partners.currency,
project_partners.id, project_partners.created_at, project_partners.updated_at,
project_partners.version FROM project_partners WHERE project_partners.project_id = %(id)s::UUID
ORDER BY project_partners.created_at, project_partners.id""",
    "submissions": """SELECT project_submissions.project_id, project_submissions.programme,
project_submissions.call_name, project_submissions.deadline, project_submissions.submitted_on,
project_submissions.label_decision, project_submissions.label_decided_on,
project_submissions.label_decided_by_id, project_submissions.label_note,
project_submissions.decision_date, project_submissions.requested_cents,
project_submissions.obtained_cents, project_submissions.currency, project_submissions.outcome,
project_submissions.id, project_submissions.created_at, project_submissions.updated_at,
project_submissions.version FROM project_submissions
WHERE project_submissions.project_id = %(id)s::UUID
ORDER BY project_submissions.created_at, project_submissions.id""",
    "transitions": """SELECT project_transitions.id, project_transitions.project_id,
project_transitions.from_state, project_transitions.to_state, project_transitions."on",
project_transitions.at, project_transitions.by_user_id, project_transitions.note
FROM project_transitions WHERE project_transitions.project_id = %(id)s::UUID
ORDER BY project_transitions.at, project_transitions.id""",
}
PROJECT_HEAD = (
    "id", "acronym", "title", "summary", "domains", "trl_start", "trl_target", "duration_months",
    "total_budget_cents", "currency", "follower_id", "team_ids", "confidential", "external_id",
    "state", "state_since", "allowed_transitions", "created_at", "updated_at",
)  # fmt: skip
PARTNER_FIELDS = (
    "id", "project_id", "member_id", "organisation_name", "siren", "role", "category",
    "budget_cents", "aid_requested_cents", "aid_obtained_cents", "aid_form", "currency",
    "created_at", "updated_at",
)  # fmt: skip
SUBMISSION_FIELDS = (
    "id", "project_id", "programme", "call_name", "deadline", "submitted_on", "label_decision",
    "label_decided_on", "label_decided_by_id", "label_note", "decision_date", "requested_cents",
    "obtained_cents", "currency", "outcome", "created_at", "updated_at",
)  # fmt: skip
TRANSITION_FIELDS = ("from_state", "to_state", "on", "at", "by_user_id", "note")


def _by_project(rows: list[dict[str, Any]], ids: list[uuid.UUID]) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = {project_id: [] for project_id in ids}
    for row in rows:
        grouped[row["project_id"]].append(row)
    return grouped


def _project_out(row: dict[str, Any], linked: dict[str, list[Any]]) -> dict[str, Any]:
    """The same keys, in the same order, as schemas.projects.ProjectSummaryOut."""
    derived = {
        "domains": [{"code": d["code"], "label": d["label"]} for d in linked["domains"]],
        "team_ids": sorted(str(t["user_id"]) for t in linked["team"]),
        "allowed_transitions": [s.value for s in PROJECT_TRANSITIONS[ProjectState(row["state"])]],
    }
    return {name: derived[name] if name in derived else row[name] for name in PROJECT_HEAD}


def _projects_out(cursor: Any, rows: list[dict[str, Any]]) -> list[Any]:
    """A page's rows with the two lists mrm's loader options fetch for the whole page."""
    ids = [row["id"] for row in rows]
    linked = {
        name: _by_project(cursor.execute(sql, {"ids": ids}).fetchall(), ids)
        for name, sql in SQL_PROJECT_LINKS.items()
    }
    return [_project_out(row, {name: linked[name][row["id"]] for name in linked}) for row in rows]


def _project_page_out(cursor: Any, row: dict[str, Any]) -> dict[str, Any]:
    """schemas.projects.ProjectOut: the summary, then partners, submissions, lifecycle, results."""
    linked = {
        name: cursor.execute(sql, {"id": row["id"]}).fetchall()
        for name, sql in SQL_PROJECT_PAGE.items()
    }
    out = _project_out(row, linked)
    out["partners"] = [{name: p[name] for name in PARTNER_FIELDS} for p in linked["partners"]]
    out["submissions"] = [
        {name: s[name] for name in SUBMISSION_FIELDS} for s in linked["submissions"]
    ]
    out["transitions"] = [
        {name: t[name] for name in TRANSITION_FIELDS} for t in linked["transitions"]
    ]
    out["results"] = {
        "products_launched": row["products_launched"],
        "patents_filed": row["patents_filed"],
        "jobs_created": row["jobs_created"],
        "follow_on_funding_cents": row["follow_on_funding_cents"],
        "notes": row["results_notes"],
    }
    return out


@app.get("/api/v1/projects")
def list_projects() -> Response:
    limit = min(int(request.args.get("limit", 50)), 200)
    params: dict[str, Any] = {"limit": limit + 1}
    conditions = []
    for name, condition in PROJECT_FILTERS.items():
        if name in request.args:
            conditions.append(condition)
            params[name] = request.args[name]
    where = "WHERE " + " AND ".join(conditions) if conditions else ""
    with pool().connection() as connection, connection.cursor() as cursor:
        if refused := require("projects:read", cursor):
            return refused
        rows = cursor.execute(SQL_PROJECTS_PAGE.replace("{where}", where), params).fetchall()
        data = _projects_out(cursor, rows[:limit]) if rows else []
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _cursor_of("-created_at", last["created_at"].isoformat(), last["id"])
    return json_response({"data": data, "next_cursor": next_cursor})


@app.get("/api/v1/projects/<uuid:project_id>")
def get_project(project_id: uuid.UUID) -> Response:
    with pool().connection() as connection, connection.cursor() as cursor:
        if refused := require("projects:read", cursor):
            return refused
        rows = cursor.execute(SQL_PROJECT_BY_ID, {"id": project_id}).fetchall()
        if not rows:
            return problem(404, "No such project.")
        project = _project_page_out(cursor, rows[0])
    return json_response(project, headers={"ETag": f'"v{rows[0]["version"]}"'})
