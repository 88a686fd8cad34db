"""API clients: credentials for partner servers (OAuth 2 client credentials)."""

import uuid
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from flask.views import MethodView

from api.auth import current_principal
from api.blueprint import Blueprint
from api.etag import if_match_versions
from api.extensions import db
from api.pagination import page_response, paginate
from api.responses import created, with_etag
from models import ApiClient
from schemas.api_clients import (
    ApiClientCreate,
    ApiClientOut,
    ApiClientPage,
    ApiClientPatch,
    ApiClientQuery,
    ApiClientWithSecret,
    SecretRotation,
)
from schemas.journal import HistoryPage, HistoryQuery
from services.api_clients import (
    API_CLIENT_SORT_KEYS,
    IssuedSecret,
    create_api_client,
    delete_api_client,
    get_api_client,
    list_api_clients,
    rotate_api_client_secret,
    update_api_client,
)
from services.journal import record_history

blp = Blueprint(
    "api_clients",
    __name__,
    url_prefix="/api/v1/api-clients",
    description="Credentials for partner servers: client id, secret and scopes.",
)


def _with_secret(issued: IssuedSecret) -> SimpleNamespace:
    client = issued.client
    fields = {column.key: getattr(client, column.key) for column in ApiClient.__table__.columns}
    return SimpleNamespace(**fields, scope_list=client.scope_list, client_secret=issued.secret)


@blp.route("")
class ApiClients(MethodView):
    @blp.auth("users:admin")
    @blp.arguments(ApiClientQuery(), location="query", as_kwargs=True)
    @blp.page_response(ApiClientPage())
    def get(self, **query: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """List API clients

        Filter by active flag, `q` (name or description) and `updated_since`.
        """
        return paginate(db.session, list_api_clients, query, API_CLIENT_SORT_KEYS, ApiClient.id)

    @blp.auth("users:admin")
    @blp.arguments(ApiClientCreate())
    @blp.created_response(ApiClientWithSecret())
    def post(self, body: dict[str, Any]) -> tuple[Any, int, dict[str, str]]:
        """Register an API client

        The answer holds `client_id` and `client_secret`; the secret is shown this once and
        stored only as a digest. The client then gets tokens from `POST /auth/token` with
        `grant_type=client_credentials`.
        """
        issued = create_api_client(db.session, actor_user_id=current_principal().user_id, **body)
        _, status, headers = created(
            issued.client, "api_clients.ApiClientById", client_id=issued.client.id
        )
        return _with_secret(issued), status, headers


@blp.route("/<uuid:client_id>")
class ApiClientById(MethodView):
    @blp.auth("users:admin")
    @blp.record_response(ApiClientOut())
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, client_id: uuid.UUID) -> tuple[ApiClient, dict[str, str]]:
        """Get an API client"""
        return with_etag(get_api_client(db.session, client_id))

    @blp.auth("users:admin")
    @blp.if_match
    @blp.arguments(ApiClientPatch())
    @blp.record_response(ApiClientOut())
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, body: dict[str, Any], client_id: uuid.UUID) -> tuple[ApiClient, dict[str, str]]:
        """Update an API client

        `is_active: false`, fewer `scopes` or a past `expires_at` take effect on the client's
        tokens at once.
        """
        client = update_api_client(
            db.session, client_id=client_id, changes=body, if_match=if_match_versions()
        )
        return with_etag(client)

    @blp.auth("users:admin")
    @blp.if_match
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, client_id: uuid.UUID) -> None:
        """Delete an API client

        Its tokens stop at once; the journal keeps what it did.
        """
        delete_api_client(db.session, client_id=client_id, if_match=if_match_versions())


@blp.route("/<uuid:client_id>/rotate-secret")
class ApiClientSecretRotation(MethodView):
    @blp.auth("users:admin")
    @blp.if_match
    @blp.arguments(SecretRotation(), required=False)
    @blp.record_response(ApiClientWithSecret())
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(
        self, body: dict[str, Any], client_id: uuid.UUID
    ) -> tuple[SimpleNamespace, dict[str, str]]:
        """Give an API client a new secret

        The new secret is in the answer, shown this once. The current one keeps working for
        `overlap_seconds` (default one day), so both are valid while the partner deploys the
        new one; a secret older than the current one stops now. 409 if the client is
        deactivated.
        """
        overlap = timedelta(seconds=body.get("overlap_seconds", 24 * 3600))
        issued = rotate_api_client_secret(
            db.session, client_id=client_id, overlap=overlap, if_match=if_match_versions()
        )
        _, headers = with_etag(issued.client)
        return _with_secret(issued), headers


@blp.route("/<uuid:client_id>/history")
class ApiClientHistory(MethodView):
    @blp.auth("users:admin")
    @blp.arguments(HistoryQuery, location="query", as_kwargs=True)
    @blp.page_response(HistoryPage)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, client_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """An API client's history, newest first"""
        page = record_history(db.session, model=ApiClient, record_id=client_id, **query)
        return page_response(page)
