"""Imports: spreadsheets and JSON files loaded into members (and, later, other resources)."""

import uuid
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request, stream_with_context, url_for
from flask.views import MethodView
from flask_smorest import abort
from werkzeug.exceptions import UnsupportedMediaType

from api.auth import authorize
from api.blueprint import Blueprint
from api.config import current_settings
from api.extensions import db
from api.jobs import app_jobs
from api.request_context import RAW_BODY_ENDPOINTS
from api.responses import ETAG, LOCATION, etag_headers, with_etag
from models import Import
from schemas.imports import (
    ContactImportQuery,
    ExternalIdImportQuery,
    ImportOut,
    MemberImportQuery,
    PaymentImportQuery,
    RegistrationImportQuery,
)
from services import strict_json
from services.errors import InvalidInput
from services.imports.parsing import FORMATS, JSON, media_type_of
from services.imports.records import create_import, get_import, run_stored_import
from services.imports.registry import importer_for
from services.imports.report import ImportReport, report_csv
from services.imports.runner import ImportOptions
from services.imports.templates import template_csv

blp = Blueprint(
    "imports",
    __name__,
    url_prefix="/api/v1/imports",
    description="Bulk upserts from CSV, JSON, NDJSON and .xlsx files, with a per-row report.",
)

# A JSON array is parsed whole: beyond this, NDJSON or CSV stream.
MAX_JSON_ROWS = 100_000
_FILE_BODY = {
    "required": True,
    "description": "The file: CSV (UTF-8 with or without BOM, or Windows-1252; `;` or `,`), "
    "a JSON array of objects, NDJSON, or an .xlsx workbook (first sheet).",
    "content": {
        "text/csv": {"schema": {"type": "string", "minLength": 1}},
        "application/json": {
            "schema": {"type": "array", "maxItems": MAX_JSON_ROWS, "items": {"type": "object"}}
        },
        "application/x-ndjson": {"schema": {"type": "string", "minLength": 1}},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary", "minLength": 1}
        },
    },
}


@blp.before_request
def _allow_large_files() -> None:
    """Files may be larger than JSON bodies (``MRM_IMPORT_MAX_BYTES``)."""
    request.max_content_length = current_settings().import_max_bytes


def _media_type(filename: str | None) -> str:
    media_type = request.mimetype
    if media_type in ("", "application/octet-stream") and filename:
        media_type = media_type_of(filename) or media_type
    if media_type not in FORMATS:
        raise UnsupportedMediaType(
            f"Send the file as one of: {', '.join(FORMATS)} (or application/octet-stream "
            "with a `filename` whose extension says which)."
        )
    return media_type


def _check_json_array(payload: bytes) -> None:
    """A JSON body is an array of objects, as the spec says: 400 if it is not JSON, 422 if
    it is something else (a file that is not even JSON is not imported, not even as failed)."""
    try:
        data = strict_json.loads(payload)
    except (strict_json.MalformedJson, strict_json.LoneSurrogate) as error:
        abort(400, messages={"body": [str(error) or "Malformed JSON."]})
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise InvalidInput({"body": ["A JSON import is an array of objects."]})
    if len(data) > MAX_JSON_ROWS:
        raise InvalidInput({"body": [f"At most {MAX_JSON_ROWS} rows; send NDJSON or CSV."]})


def _submit(resource: str, query: dict[str, Any]) -> Any:
    """Record the import; run it now when the file is small, else hand it to a worker."""
    media_type = _media_type(query.pop("filename", None))
    payload = request.get_data(cache=False)
    if not payload:
        raise InvalidInput({"body": ["The file is empty."]})
    if media_type == JSON:
        _check_json_array(payload)
    record = create_import(
        db.session,
        resource=resource,
        media_type=media_type,
        payload=payload,
        options=ImportOptions(**query),
    )
    location = {"Location": url_for("imports.ImportById", import_id=record.id)}
    if len(payload) <= current_settings().import_sync_max_bytes:
        run_stored_import(db.session, record.id)
        return with_etag(get_import(db.session, record.id))
    app_jobs(current_app._get_current_object()).run_import(str(record.id))  # type: ignore[attr-defined]
    record = get_import(db.session, record.id)
    return record, 202, {**etag_headers(record), **location}


def _file_import(view: Callable[..., Any]) -> Callable[..., Any]:
    """What every file import documents: the file body, 200 with the import when it ran in
    the request, 202 when a job runs it, and the refusals of a file (one place for all)."""
    decorators = (
        blp.doc(requestBody=_FILE_BODY),
        blp.record_response(ImportOut()),
        blp.alt_response(
            202,
            schema=ImportOut(),
            description="Accepted: a large file is imported by a job; follow `Location`.",
            headers={"ETag": ETAG, "Location": LOCATION},
            success=True,
        ),
        blp.alt_response(400, response="BAD_REQUEST"),
        blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE"),
        blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE"),
    )
    for decorator in reversed(decorators):
        view = decorator(view)
    return view


@blp.route("/members")
class MembersImport(MethodView):
    @blp.auth("members:write")
    @blp.arguments(MemberImportQuery(), location="query", as_kwargs=True)
    @_file_import
    def post(self, **query: Any) -> Any:
        """Import members from a file

        Rows are matched on `key` (`external_id` by default, or `siren`) and created or
        updated through the same checks as `POST /members`; headers are matched ignoring case
        and accents, with French and English aliases (`Raison sociale`, `SIREN`, `Code
        postal`, `Courriel`...; see the template). A file up to `MRM_IMPORT_SYNC_MAX_BYTES` is
        imported at once (200, the report in the body); a larger one answers 202 with
        `Location: /api/v1/imports/{id}`, which shows its status and progress.
        """
        return _submit("members", query)


RAW_BODY_ENDPOINTS.add("imports.MembersImport")


@blp.route("/members/template")
class MembersImportTemplate(MethodView):
    @blp.auth("members:write")
    @blp.response(200, description="A CSV with the header row.", content_type="text/csv")
    def get(self) -> Response:
        """Download the members import template (CSV header row)"""
        return Response(template_csv(importer_for("members")), mimetype="text/csv")


@blp.route("/contacts")
class ContactsImport(MethodView):
    @blp.auth("contacts:write")
    @blp.arguments(ContactImportQuery(), location="query", as_kwargs=True)
    @_file_import
    def post(self, **query: Any) -> Any:
        """Import contacts, with their affiliation, from a file

        Rows are matched on `key` (`email` among active contacts by default, or
        `external_id`) and go through the checks of `POST /contacts`. A row that names a
        member (`member_external_id` or `member_siren`) affiliates the contact with it (or
        updates that affiliation) under the rules of `POST /contacts/{id}/affiliations`:
        `job_title`, `roles`, `is_primary`, `start_date`, `end_date`. Only the columns the
        file has are written. Small files answer 200, large ones 202 (see members).
        """
        return _submit("contacts", query)


RAW_BODY_ENDPOINTS.add("imports.ContactsImport")


@blp.route("/contacts/template")
class ContactsImportTemplate(MethodView):
    @blp.auth("contacts:write")
    @blp.response(200, description="A CSV with the header row.", content_type="text/csv")
    def get(self) -> Response:
        """Download the contacts import template (CSV header row)"""
        return Response(template_csv(importer_for("contacts")), mimetype="text/csv")


@blp.route("/memberships")
class MembershipsImport(MethodView):
    @blp.auth("memberships:write")
    @blp.arguments(ExternalIdImportQuery(), location="query", as_kwargs=True)
    @_file_import
    def post(self, **query: Any) -> Any:
        """Import memberships from a file

        Rows are matched on `external_id` and go through the checks of `POST /memberships`:
        the member is named by `member_external_id` or `member_siren`, the plan by its code,
        and the fee is computed from the plan's schedule (no fee column: a fee set by hand
        stays an API operation). A membership found keeps its terms (member, plan, period,
        turnover, exemption: another value is refused, naming the column); `approved_on` and
        `notes` are updated. Small files answer 200, large ones 202 (see members).
        """
        return _submit("memberships", query)


RAW_BODY_ENDPOINTS.add("imports.MembershipsImport")


@blp.route("/memberships/template")
class MembershipsImportTemplate(MethodView):
    @blp.auth("memberships:write")
    @blp.response(200, description="A CSV with the header row.", content_type="text/csv")
    def get(self) -> Response:
        """Download the memberships import template (CSV header row)"""
        return Response(template_csv(importer_for("memberships")), mimetype="text/csv")


@blp.route("/payments")
class PaymentsImport(MethodView):
    @blp.auth("memberships:write")
    @blp.arguments(PaymentImportQuery(), location="query", as_kwargs=True)
    @_file_import
    def post(self, **query: Any) -> Any:
        """Import membership payments from a file

        Each row is a payment (or a refund, negative with a `reason`) of the membership named
        by `membership_external_id`, under the rules of `POST /memberships/{id}/payments`
        (currency, balance, refunds within what was paid). Amounts are integer cents in
        `amount_cents`, or euros in `amount` (`Montant`: `1 234,50` or `1234.50`, at most two
        decimals). A payment is never edited: rows are matched on their `reference` within the
        membership; one recorded alike is unchanged, a different one refused. Small files
        answer 200, large ones 202 (see members).
        """
        return _submit("payments", query)


RAW_BODY_ENDPOINTS.add("imports.PaymentsImport")


@blp.route("/payments/template")
class PaymentsImportTemplate(MethodView):
    @blp.auth("memberships:write")
    @blp.response(200, description="A CSV with the header row.", content_type="text/csv")
    def get(self) -> Response:
        """Download the payments import template (CSV header row)"""
        return Response(template_csv(importer_for("payments")), mimetype="text/csv")


@blp.route("/interactions")
class InteractionsImport(MethodView):
    @blp.auth("interactions:write")
    @blp.arguments(ExternalIdImportQuery(), location="query", as_kwargs=True)
    @_file_import
    def post(self, **query: Any) -> Any:
        """Import interactions from a file

        Rows are matched on `external_id` and go through the checks of `POST /interactions`.
        Members are named by `member_external_ids` or `member_sirens`, contacts by
        `contact_emails` or `contact_external_ids` (several separated by `,`, `;` or `|`), the
        owner by `owner_email` (default: you). `occurred_at` is ISO 8601 or `DD/MM/YYYY
        [HH:MM]`, Paris time without an offset. Created interactions have `source` `import`.
        Small files answer 200, large ones 202 (see members).
        """
        return _submit("interactions", query)


RAW_BODY_ENDPOINTS.add("imports.InteractionsImport")


@blp.route("/interactions/template")
class InteractionsImportTemplate(MethodView):
    @blp.auth("interactions:write")
    @blp.response(200, description="A CSV with the header row.", content_type="text/csv")
    def get(self) -> Response:
        """Download the interactions import template (CSV header row)"""
        return Response(template_csv(importer_for("interactions")), mimetype="text/csv")


@blp.route("/registrations")
class RegistrationsImport(MethodView):
    @blp.auth("events:write")
    @blp.arguments(RegistrationImportQuery(), location="query", as_kwargs=True)
    @_file_import
    def post(self, **query: Any) -> Any:
        """Import event registrations from a file

        Each row registers, for the event named by `event_external_id`, a contact (by
        `contact_email`; `member_external_id` or `member_siren` for the organisation they come
        for) or a guest (`guest_name`, `guest_email`, `guest_organisation`, `guest_category`),
        under the rules of `POST /events/{id}/registrations` applied row by row in the file's
        order: once the seats are taken the next rows are waitlisted. Rows are matched on the
        participant within the event; a registration found keeps its role, its `notes` are
        updated. Small files answer 200, large ones 202 (see members).
        """
        return _submit("registrations", query)


RAW_BODY_ENDPOINTS.add("imports.RegistrationsImport")


@blp.route("/registrations/template")
class RegistrationsImportTemplate(MethodView):
    @blp.auth("events:write")
    @blp.response(200, description="A CSV with the header row.", content_type="text/csv")
    def get(self) -> Response:
        """Download the registrations import template (CSV header row)"""
        return Response(template_csv(importer_for("registrations")), mimetype="text/csv")


def _readable(import_id: uuid.UUID) -> Import:
    """The import, for a caller who may write the resource it imports into."""
    record = get_import(db.session, import_id)
    authorize(importer_for(record.resource).scope)
    return record


@blp.route("/<uuid:import_id>")
class ImportById(MethodView):
    @blp.authenticated
    @blp.record_response(ImportOut())
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, import_id: uuid.UUID) -> tuple[Import, dict[str, str]]:
        """Get an import: status, progress and report

        Readable with the write scope of the resource imported into (`members:write`...).
        """
        return with_etag(_readable(import_id))


@blp.route("/<uuid:import_id>/report")
class ImportReportCsv(MethodView):
    @blp.authenticated
    @blp.response(200, description="`line,column,message,severity`", content_type="text/csv")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, import_id: uuid.UUID) -> Response:
        """Download an import's problems as CSV

        One line per refused row's problem (`error`) and per skipped line or column
        (`warning`); just the header row while the import has no report yet.
        """
        record = _readable(import_id)
        report = ImportReport.from_dict(record.report) if record.report else None
        lines = report_csv(report) if report else iter(["line,column,message,severity\r\n"])
        return Response(stream_with_context(lines), mimetype="text/csv")
