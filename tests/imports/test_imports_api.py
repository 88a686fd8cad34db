"""``/imports``: synchronous and queued imports, reports, templates, refusals."""

import dataclasses

import orjson
import pytest
from sqlalchemy import func, select

from api.config import SETTINGS_KEY
from models import JournalEntry, Member
from tests.imports.files import FRENCH_HEADERS, french_rows, write_csv, write_xlsx

URL = "/api/v1/imports/members"


@pytest.fixture
def queued_imports(app):
    """Every import runs as a job (inline in tests), whatever its size."""
    settings = app.extensions[SETTINGS_KEY]
    app.extensions[SETTINGS_KEY] = dataclasses.replace(settings, import_sync_max_bytes=0)
    yield
    app.extensions[SETTINGS_KEY] = settings


def _post(client, headers, data, content_type="text/csv", query=""):
    return client.post(URL + query, data=data, headers={**headers, "Content-Type": content_type})


def test_small_file_is_imported_in_the_request(client, staff_headers, session):
    data = write_csv(FRENCH_HEADERS, french_rows(3))
    response = _post(client, staff_headers, data, "text/csv; charset=windows-1252")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "succeeded"
    assert body["report"]["created"] == 3
    assert body["report"]["written"] is True
    entries = session.scalars(
        select(JournalEntry).where(JournalEntry.resource_type == "member")
    ).all()
    assert len(entries) == 3
    assert {entry.source for entry in entries} == {"import"}
    assert {entry.request_id for entry in entries} == {f"import:{body['id']}"}
    assert all(entry.actor_user_id is not None for entry in entries)


def test_the_same_file_twice_writes_nothing_the_second_time(client, staff_headers, session):
    data = write_csv(FRENCH_HEADERS, french_rows(3), encoding="utf-8", bom=True, delimiter=",")
    _post(client, staff_headers, data)
    count = session.scalar(select(func.count()).select_from(JournalEntry))
    report = _post(client, staff_headers, data).json["report"]
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 3)
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == count


def test_large_file_is_queued_and_shows_its_progress(
    client, staff_headers, session, queued_imports
):
    data = write_csv(FRENCH_HEADERS, french_rows(4))
    response = _post(client, staff_headers, data, query="?atomic=false")
    assert response.status_code == 202
    location = response.headers["Location"]
    assert location == f"/api/v1/imports/{response.json['id']}"
    shown = client.get(location, headers=staff_headers)
    assert shown.status_code == 200
    assert shown.json["status"] == "succeeded"
    assert shown.json["report"]["created"] == 4
    assert session.scalar(select(func.count()).select_from(Member)) == 4


def test_report_as_csv_names_each_problem(client, staff_headers):
    rows = french_rows(3)
    rows[1][1] = "boulangerie"
    rows[2][8] = rows[0][8]
    data = write_csv([*FRENCH_HEADERS, "Commentaire"], [[*row, "x"] for row in rows])
    body = _post(client, staff_headers, data, query="?dry_run=true").json
    assert body["report"]["written"] is False
    csv_report = client.get(f"/api/v1/imports/{body['id']}/report", headers=staff_headers)
    assert csv_report.status_code == 200
    assert csv_report.mimetype == "text/csv"
    lines = csv_report.get_data(as_text=True).splitlines()
    assert lines[0] == "line,column,message,severity"
    assert any(line.startswith("3,Catégorie,") for line in lines)
    assert "4,Référence,Duplicate: line 2 has the same external_id.,error" in lines
    assert '1,Commentaire,"Unknown column, ignored.",warning' in lines


def test_json_ndjson_and_xlsx_bodies(client, staff_headers):
    items = [{"name": "Alpha", "category": "startup", "external_id": "A1"}]
    assert (
        _post(client, staff_headers, orjson.dumps(items), "application/json").json["report"][
            "created"
        ]
        == 1
    )
    ndjson = orjson.dumps({"name": "Beta", "category": "sme", "external_id": "B1"}) + b"\n"
    assert (
        _post(client, staff_headers, ndjson, "application/x-ndjson").json["report"]["created"] == 1
    )


def test_template_lists_the_columns(client, staff_headers):
    response = client.get(URL + "/template", headers=staff_headers)
    assert response.status_code == 200
    header = response.get_data(as_text=True).splitlines()[0].split(",")
    assert {"name", "category", "siren", "external_id", "domains"} <= set(header)


def test_viewers_may_not_import_or_read_imports(client, staff_headers, viewer_headers):
    data = write_csv(FRENCH_HEADERS, french_rows(1))
    assert _post(client, viewer_headers, data).status_code == 403
    assert client.get(URL + "/template", headers=viewer_headers).status_code == 403
    done = _post(client, staff_headers, data).json
    assert client.get(f"/api/v1/imports/{done['id']}", headers=viewer_headers).status_code == 403
    assert (
        client.get(f"/api/v1/imports/{done['id']}/report", headers=viewer_headers).status_code
        == 403
    )
    assert client.post(URL, data=data, headers={"Content-Type": "text/csv"}).status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [("?mode=merge", "mode"), ("?key=email", "key"), ("?dry_run=yes", "dry_run"), ("?x=1", "x")],
)
def test_bad_query_arguments_are_422(client, staff_headers, query, field):
    response = _post(client, staff_headers, b"name\nA\n", query=query)
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_bad_bodies(client, staff_headers, app):
    assert _post(client, staff_headers, b"").status_code == 422
    response = _post(client, staff_headers, b"%PDF-1.4", "application/pdf")
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert _post(client, staff_headers, b"[1, 2", "application/json").status_code == 400
    assert _post(client, staff_headers, b'{"a": 1}', "application/json").status_code == 422
    assert _post(client, staff_headers, b"[1]", "application/json").status_code == 422
    assert (
        client.put(
            URL, data=b"x", headers={**staff_headers, "Content-Type": "text/csv"}
        ).status_code
        == 405
    )
    broken = _post(client, staff_headers, b'{"a": 1}\n[', "application/x-ndjson").json
    assert broken["status"] == "failed"
    assert "Malformed JSON" in broken["error"]
    not_xlsx = _post(
        client,
        staff_headers,
        b"not a zip",
        "application/octet-stream",
        query="?filename=members.xlsx",
    ).json
    assert not_xlsx["status"] == "failed"


def test_unknown_import_is_404(client, staff_headers):
    missing = "/api/v1/imports/00000000-0000-4000-8000-000000000000"
    assert client.get(missing, headers=staff_headers).status_code == 404
    assert client.get(missing + "/report", headers=staff_headers).status_code == 404


def test_xlsx_file(client, staff_headers):
    pytest.importorskip("python_calamine")
    xlsx = write_xlsx(
        [
            ["Raison sociale", "Catégorie", "Code postal", "Référence", "Année de création"],
            ["Hôpital Foch", "clinical_centre", 92150, "X-1", 1929],
        ]
    )
    response = _post(
        client,
        staff_headers,
        xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    assert response.json["report"]["created"] == 1, response.json
