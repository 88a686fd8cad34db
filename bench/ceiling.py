"""The bare stack: the questions mrm answers, asked with the same SQL through psycopg directly.

Run under the same gunicorn settings as mrm (``gunicorn -c python:api.gunicorn_config
bench.ceiling:app``). What it keeps from a real API: a bearer token checked on every request, the
same SQL statements mrm sends (read from services/members.py and captured with SQLAlchemy's
echo), the same JSON body. What it drops: the framework layers (flask-smorest, webargs,
marshmallow), the ORM and the access log.

Auth: the token is an HS256 JWT decoded and verified with PyJWT, then its login is looked up with
the same SQL statement mrm sends on every request (the user is active and the login not
revoked: revocation that holds across workers is a design requirement), on the connection the
request's other statements use, and the scope checked against the token and the role. So the
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
from flask import Flask, Response, request
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

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
    row = cursor.execute(SQL_OPEN_LOGIN_ROLE, login).fetchone()
    return None if row is None else scopes & scopes_for_role(row["role"])


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

# One member: parent and domains joined in (services.members.member_loader_options(single=True)).
SQL_MEMBER_BY_ID = (
    f"SELECT {CONTACTS_COUNT}, {MEMBER_COLUMNS}, {PARENT_COLUMNS}, domains_1.code, "
    "domains_1.label, domains_1.is_active, domains_1.id AS domain_id, domains_1.created_at AS "
    "domain_created_at, domains_1.updated_at AS domain_updated_at, domains_1.version AS "
    f"domain_version FROM members {PARENT_JOIN} LEFT OUTER JOIN (member_domains AS "
    "member_domains_1 JOIN domains AS domains_1 ON domains_1.id = member_domains_1.domain_id) "
    "ON members.id = member_domains_1.member_id WHERE members.id = %(id)s::UUID "
    "ORDER BY domains_1.code"
)

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
        rows = cursor.execute(SQL_MEMBER_BY_ID, {"id": member_id}).fetchall()
        if not rows:
            return problem(404, "No such member.")
        row = rows[0]
        domains = [{"code": r["code"], "label": r["label"]} for r in rows if r["code"]]
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
    sql = SQL_MEMBERS_PAGE.replace("{filters}", " ".join(filters))
    with pool().connection() as connection, connection.cursor() as cursor:
        if refused := require("members:read", cursor):
            return refused
        rows = cursor.execute(sql, params).fetchall()
        data = _members_out(cursor, rows) if rows else []
        if as_of is not None and rows:
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

SQL_CONTACTS_PAGE = (
    f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE contacts.archived_at IS NULL {{filters}} "
    "ORDER BY contacts.sort_name ASC, contacts.id ASC LIMIT %(limit)s::INTEGER"
)

# services/contacts.py loads each contact's affiliations, then the members they point at.
SQL_AFFILIATIONS_OF = """SELECT affiliations.contact_id, affiliations.member_id,
affiliations.job_title, affiliations.roles, affiliations.start_date, affiliations.end_date,
affiliations.is_primary, affiliations.id, affiliations.created_at, affiliations.updated_at,
affiliations.version FROM affiliations WHERE affiliations.contact_id IN ({ids})"""

SQL_MEMBERS_OF = f"SELECT {MEMBER_COLUMNS} FROM members WHERE members.id IN ({{ids}})"

CONTACT_FIELDS = (
    "id", "first_name", "last_name", "email", "phones", "preferred_language", "notes",
    "external_id",
)  # fmt: skip
AFFILIATION_FIELDS = ("job_title", "roles", "start_date", "end_date", "is_primary")


def _affiliation_out(row: dict[str, Any], member: dict[str, Any]) -> dict[str, Any]:
    out = {"id": row["id"], "contact_id": row["contact_id"], "member_id": row["member_id"]}
    out["member"] = {"id": member["id"], "name": member["name"]}
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
        affiliations = (
            _in_list(cursor, SQL_AFFILIATIONS_OF, [r["id"] for r in rows]) if rows else []
        )
        member_ids = list(dict.fromkeys(a["member_id"] for a in affiliations))
        members = (
            {m["id"]: m for m in _in_list(cursor, SQL_MEMBERS_OF, member_ids)} if member_ids else {}
        )
    by_contact: dict[uuid.UUID, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
    for affiliation in affiliations:
        member = members[affiliation["member_id"]]
        by_contact[affiliation["contact_id"]].append(_affiliation_out(affiliation, member))
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
# interactions, the member record, and its memberships (services/membership_timeline.py).
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
