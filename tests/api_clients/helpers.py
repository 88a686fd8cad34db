"""Registering API clients and getting their tokens, as a partner would."""

import base64
from typing import Any

from flask.testing import FlaskClient

from tests.factories import bearer

TOKEN_URL = "/api/v1/auth/token"


def register_client(
    client: FlaskClient, admin_headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    body = {"name": "Partner CRM", "scopes": ["members:read", "members:write"], **fields}
    response = client.post("/api/v1/api-clients", json=body, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def grant(
    client: FlaskClient, client_id: str, secret: str, *, basic: bool = False, **extra: str
) -> Any:
    """POST the client-credentials grant; the response as it came."""
    form = {"grant_type": "client_credentials", **extra}
    headers = {}
    if basic:
        pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        headers["Authorization"] = f"Basic {pair}"
    else:
        form |= {"client_id": client_id, "client_secret": secret}
    return client.post(TOKEN_URL, data=form, headers=headers)


def client_headers(client: FlaskClient, registered: dict[str, Any]) -> dict[str, str]:
    response = grant(client, registered["client_id"], registered["client_secret"])
    assert response.status_code == 200, response.get_json()
    return bearer(response.get_json()["access_token"])
