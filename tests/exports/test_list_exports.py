"""How a list's file is written: filters and sort, Excel's flavour, columns, size, rights, log."""

import csv
import io
import logging
import uuid
from datetime import timedelta

import marshmallow as ma
import orjson
import pytest
from sqlalchemy import select

import api.list_exports
from api.extensions import db
from models import Domain
from schemas.common import page_of
from tests.events.factories import make_event, soon
from tests.factories import make_user
from tests.interactions.factories import make_interaction
from tests.members.factories import domain_by_code
from tests.projects.factories import make_project

EVENTS = "/api/v1/events"


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def events(session):
    made = [
        make_event(session, title="Journée santé numérique", type="conference", starts_at=soon(3)),
        make_event(session, title="Atelier génomique", type="workshop", starts_at=soon(1)),
        make_event(session, title="Café innovation", type="workshop", starts_at=soon(2)),
        make_event(session, title="Assemblée générale", type="general_assembly"),
    ]
    session.commit()
    return made


def test_filters_and_sort_are_the_lists(client, staff_headers, events):
    url = f"{EVENTS}?type=workshop&sort=-starts_at"
    page = client.get(url, headers=staff_headers).get_json()["data"]
    rows = _rows(client.get(f"{url}&format=csv", headers=staff_headers))
    assert [row["title"] for row in rows] == [item["title"] for item in page]
    assert [row["title"] for row in rows] == ["Café innovation", "Atelier génomique"]


def test_limit_and_cursor_do_not_page_an_export(client, staff_headers, events):
    first = client.get(f"{EVENTS}?limit=1", headers=staff_headers).get_json()
    rows = _rows(
        client.get(
            f"{EVENTS}?format=csv&limit=1&cursor={first['next_cursor']}&include_total=true",
            headers=staff_headers,
        )
    )
    assert len(rows) == 4


def test_excel_csv_has_bom_semicolons_crlf_and_accents(client, staff_headers, events):
    response = client.get(f"{EVENTS}?format=csv&excel=true&sort=starts_at", headers=staff_headers)
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0].startswith("id;")
    assert "\n" not in text.replace("\r\n", "")
    assert len(lines) == 1 + 4 + 1  # header, rows, the empty string after the last CRLF
    assert "Journée santé numérique" in text
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0]["title"] == "Atelier génomique"


def test_accept_header_chooses_the_file_only_when_preferred(client, staff_headers, events):
    both = {**staff_headers, "Accept": "application/json, text/csv;q=0.5"}
    assert client.get(EVENTS, headers=both).mimetype == "application/json"
    csv_first = {**staff_headers, "Accept": "text/csv, application/json;q=0.5"}
    assert client.get(EVENTS, headers=csv_first).mimetype == "text/csv"


def test_an_empty_export_still_has_its_header(client, staff_headers):
    response = client.get(f"{EVENTS}?format=csv&q=nothing-matches", headers=staff_headers)
    lines = response.get_data(as_text=True).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("id,title,")
    empty = client.get(f"{EVENTS}?format=ndjson&q=nothing-matches", headers=staff_headers)
    assert empty.get_data() == b""


def test_nested_objects_lists_and_nulls_in_csv_cells(client, session, admin_headers):
    follower = make_user(session)
    teammate = make_user(session)
    make_project(
        session,
        follower=follower,
        team=(teammate, follower),
        domains=(domain_by_code(session, "imaging"),),
        acronym="NEST",
    )
    session.commit()
    page = client.get("/api/v1/projects", headers=admin_headers).get_json()["data"][0]
    [row] = _rows(client.get("/api/v1/projects?format=csv", headers=admin_headers))
    # A list of plain values: joined with commas; of objects: compact JSON.
    assert row["team_ids"] == ",".join(page["team_ids"])
    assert orjson.loads(row["domains"]) == page["domains"]
    assert row["summary"] == ""  # null
    assert row["confidential"] == "false"
    memberships = client.get("/api/v1/memberships?format=csv", headers=admin_headers)
    header = memberships.get_data(as_text=True).splitlines()[0].split(",")
    # A nested object: a column per field, named by its path.
    assert "plan.code" in header
    assert "plan" not in header


def test_more_rows_than_one_internal_page(client, session, staff_headers, monkeypatch):
    """Rows come a page at a time; the session lets go of each page once it is written."""
    count = api.list_exports.EXPORT_PAGE_SIZE + 5
    start = soon()
    for number in range(count):
        make_event(
            session, title=f"Séminaire {number:03}", starts_at=start + timedelta(hours=number)
        )
    session.commit()
    held: list[int] = []
    forget = api.list_exports._forget

    def measured(known):
        forget(known)
        held.append(len(db.session.identity_map))

    monkeypatch.setattr(api.list_exports, "_forget", measured)
    rows = _rows(client.get(f"{EVENTS}?format=csv", headers=staff_headers))
    assert [row["title"] for row in rows] == [f"Séminaire {n:03}" for n in range(count)]
    assert len(held) == 2  # two calls of the view
    # What the session holds after each page does not grow with the rows written.
    assert max(held) < 20
    lines = client.get(f"{EVENTS}?format=ndjson&sort=-starts_at", headers=staff_headers)
    titles = [orjson.loads(line)["title"] for line in lines.get_data().splitlines()]
    assert titles == [f"Séminaire {n:03}" for n in reversed(range(count))]


def test_forget_lets_go_of_what_a_page_loaded_and_only_that(app, session):
    with app.test_request_context():
        before = db.session.scalars(select(Domain).order_by(Domain.code).limit(1)).one()
        known = set(db.session.identity_map.keys())
        page = db.session.scalars(select(Domain).order_by(Domain.code).offset(1).limit(2)).all()
        api.list_exports._forget(known)
        assert before in db.session
        assert page
        assert not any(domain in db.session for domain in page)


def test_the_change_feed_exports_from_after(client, session, admin_headers, monkeypatch):
    monkeypatch.setattr(api.list_exports, "EXPORT_PAGE_SIZE", 2)
    for number in range(3):
        created = client.post(
            EVENTS,
            json={
                "title": f"Rencontre {number}",
                "type": "conference",
                "starts_at": soon().isoformat(),
                "ends_at": (soon() + timedelta(hours=2)).isoformat(),
            },
            headers=admin_headers,
        )
        assert created.status_code == 201, created.get_json()
    feed = client.get("/api/v1/changes?types=event.*&limit=200", headers=admin_headers).get_json()
    seqs = [entry["seq"] for entry in feed["data"]]
    assert len(seqs) >= 3
    exported = client.get(
        f"/api/v1/changes?types=event.*&after={seqs[0]}&format=ndjson", headers=admin_headers
    )
    assert [orjson.loads(line)["seq"] for line in exported.get_data().splitlines()] == seqs[1:]


def test_an_export_needs_a_token_its_scope_and_valid_arguments(
    client, staff_headers, viewer_headers
):
    for url in (f"{EVENTS}?format=csv", "/api/v1/changes?format=ndjson"):
        assert client.get(url).status_code == 401
    assert client.get("/api/v1/changes?format=csv", headers=viewer_headers).status_code == 403
    assert client.get("/api/v1/users?format=csv", headers=staff_headers).status_code == 403
    assert client.get(f"{EVENTS}?format=xlsx", headers=staff_headers).status_code == 422
    assert client.get(f"{EVENTS}?format=csv&excel=1", headers=staff_headers).status_code == 422
    assert client.get(f"{EVENTS}?format=csv&sort=title", headers=staff_headers).status_code == 422


def test_an_export_of_a_missing_record_is_a_404(client, staff_headers):
    response = client.get(
        f"/api/v1/members/{uuid.uuid4()}/timeline?format=csv", headers=staff_headers
    )
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_exports_are_logged_with_who_what_and_how_many(client, staff_headers, events, caplog):
    with caplog.at_level(logging.INFO, logger="mrm.exports"):
        response = client.get(f"{EVENTS}?format=csv&type=workshop", headers=staff_headers)
        response.get_data()
        event_id = events[0].id
        client.get(
            f"{EVENTS}/{event_id}/registrations",
            headers={**staff_headers, "Accept": "application/x-ndjson"},
        ).get_data()
    first, second = [record.fields for record in caplog.records if record.name == "mrm.exports"]
    assert (first["resource"], first["format"], first["rows"]) == ("events", "csv", 2)
    assert first["filters"]["type"] == "workshop"
    assert first["user_id"]
    assert "limit" not in first["filters"]
    assert 'filename="events-' in response.headers["Content-Disposition"]
    assert (second["resource"], second["format"], second["rows"]) == (
        "events-registrations",
        "ndjson",
        0,
    )
    assert second["filters"]["event_id"] == str(event_id)


def test_rows_are_counted_not_lines(client, session, admin_headers, caplog):
    """A cell may hold a line break: the log counts rows."""
    owner = make_user(session)
    make_interaction(session, owner=owner, notes="Première ligne\nSeconde ligne")
    session.commit()
    with caplog.at_level(logging.INFO, logger="mrm.exports"):
        rows = _rows(client.get("/api/v1/interactions?format=csv", headers=admin_headers))
    assert rows[0]["notes"] == "Première ligne\nSeconde ligne"
    record = next(r for r in caplog.records if r.name == "mrm.exports")
    assert record.fields["rows"] == 1


class _Row(ma.Schema):
    name = ma.fields.String()
    tags = ma.fields.List(ma.fields.String())


_RowPage = page_of(_Row, "RowPageForTests")


def test_a_view_taking_its_query_as_one_argument_exports_too(app):
    """Views declared without ``as_kwargs`` get the query as a positional dict."""
    seen: list[dict] = []

    def view(query: dict) -> dict:
        seen.append(query)
        start = int(query["cursor"] or 0)
        rows = [{"name": f"Ligne {n}", "tags": ["a", "b"]} for n in range(start, start + 2)]
        return {"data": rows, "next_cursor": str(start + 2) if start < 2 else None}

    exported = api.list_exports.exportable(_RowPage())(view)
    with app.test_request_context("/api/v1/rows?format=csv"):
        response = exported({"format": "csv", "excel": False, "limit": 50, "sort": "name"})
        text = response.get_data(as_text=True)
    assert text.splitlines() == ["name,tags", *(f'Ligne {n},"a,b"' for n in range(4))]
    assert all("format" not in query and "excel" not in query for query in seen)
    assert [query["limit"] for query in seen] == [api.list_exports.EXPORT_PAGE_SIZE] * 2
    assert response.headers["Content-Disposition"].startswith('attachment; filename="rows-')
