"""A client generated from the checked-in spec by openapi-python-client, used as a third party
would: log in, create a member, read it, page through members, patch it with ``If-Match``;
and as a partner's server: client-credentials login, a create retried with an idempotency key,
a batch upsert, paging, and the history naming the client.

The generator must run without a warning about the spec, and the response models it makes must
type what the API always sends as present (``str``, ``None | str``), never as ``Unset``. The
client talks to the app in process through httpx's WSGI transport.
"""

import enum
import importlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import httpx
import pytest

from tests.factories import PASSWORD, make_user

SPEC_FILE = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
PACKAGE = "mrm_generated_client"
BASE_URL = "http://mrm.test"
# Which of the spec's body types the generator sends as raw bytes (the import files).
GENERATOR_CONFIG = Path(__file__).with_name("openapi-python-client.yaml")


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleType]]:
    """Generate the client once (whatever the database backend) and import the parts the
    tests use."""
    target = tmp_path_factory.mktemp("client")
    # The generator formats its output with ruff, installed next to the interpreter.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [
            Path(sys.executable).parent / "openapi-python-client",
            "generate",
            "--path",
            str(SPEC_FILE),
            "--meta",
            "none",
            "--config",
            str(GENERATOR_CONFIG),
            "--output-path",
            str(target / PACKAGE),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(target))
    try:
        names = [
            "client",
            "types",
            "models",
            "api.auth.issue_token",
            "api.members.create_member",
            "api.members.get_member",
            "api.members.list_members",
            "api.members.update_member",
            "api.members.batch_write_members",
            "api.api_clients.create_api_client",
            "api.changes.get_member_history",
        ]
        yield {name: importlib.import_module(f"{PACKAGE}.{name}") for name in names}
    finally:
        sys.path.remove(str(target))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def types_unset(generated: dict[str, ModuleType]) -> Any:
    return generated["types"].UNSET


def _transport(app: Any) -> httpx.Client:
    return httpx.Client(base_url=BASE_URL, transport=httpx.WSGITransport(app=app))


def test_one_class_per_enumeration(generated):
    """Each enumeration of the spec becomes one class, not one per field that uses it."""
    enums = [
        value
        for value in vars(generated["models"]).values()
        if isinstance(value, type) and issubclass(value, enum.Enum)
    ]
    by_values: dict[frozenset[str], list[str]] = {}
    for cls in enums:
        by_values.setdefault(frozenset(member.value for member in cls), []).append(cls.__name__)
    assert [names for names in by_values.values() if len(names) > 1] == []
    assert {"MemberCategory", "HeadcountBand", "MemberSort"} <= {cls.__name__ for cls in enums}


def test_generated_client_round_trip(app, session, generated):
    client_module, models, types = generated["client"], generated["models"], generated["types"]
    admin = make_user(session, role="admin")
    session.commit()

    anonymous = client_module.Client(base_url=BASE_URL).set_httpx_client(_transport(app))
    tokens = generated["api.auth.issue_token"].sync(
        client=anonymous, body=models.TokenRequest(email=admin.email, password=PASSWORD)
    )
    assert isinstance(tokens, models.TokenOut)
    assert isinstance(tokens.access_token, str)
    assert tokens.token_type == "Bearer"

    api = client_module.AuthenticatedClient(base_url=BASE_URL, token=tokens.access_token)
    api.set_httpx_client(
        httpx.Client(
            base_url=BASE_URL,
            transport=httpx.WSGITransport(app=app),
            headers={"Authorization": f"Bearer {tokens.access_token}"},
        )
    )

    created = generated["api.members.create_member"].sync_detailed(
        client=api,
        body=models.MemberCreate(
            name="Institut Imagine", category=models.MemberCategory.ACADEMIC_LAB, city="Paris"
        ),
    )
    assert created.status_code == 201, created.content
    member = created.parsed
    assert isinstance(member, models.MemberOut)
    assert isinstance(member.id, uuid.UUID)
    # Required and nullable: present as None, not left Unset.
    assert member.siren is None
    assert member.parent is None
    assert member.domains == []
    assert member.category is models.MemberCategory.ACADEMIC_LAB
    fields = [f for f in attrs.fields(models.MemberOut) if f.name != "additional_properties"]
    assert {f.name for f in fields} >= {"siren", "legal_name", "parent", "archived_at"}
    for field in fields:
        assert "Unset" not in str(field.type), field
        assert not isinstance(getattr(member, field.name), types.Unset), field

    read = generated["api.members.get_member"].sync_detailed(member.id, client=api)
    assert read.status_code == 200
    assert read.parsed.name == "Institut Imagine"
    etag = read.headers["ETag"]

    for name in ("Biolab", "Cardio Santé", "Dx Paris"):
        body = models.MemberCreate(name=name, category=models.MemberCategory.SME)
        assert generated["api.members.create_member"].sync_detailed(client=api, body=body)
    seen: list[str] = []
    cursor: Any = types.UNSET
    pages = 0
    while True:
        page = generated["api.members.list_members"].sync(
            client=api, limit=2, sort=models.MemberSort.NAME, cursor=cursor
        )
        assert isinstance(page, models.MemberPage)
        seen += [row.name for row in page.data]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(seen, key=str.casefold)
    assert {"Institut Imagine", "Biolab", "Cardio Santé", "Dx Paris"} <= set(seen)
    assert pages >= 2

    update = generated["api.members.update_member"]
    patched = update.sync_detailed(
        member.id, client=api, body=models.MemberPatch(city="Évry"), if_match=etag
    )
    assert patched.status_code == 200, patched.content
    assert patched.parsed.city == "Évry"
    stale = update.sync_detailed(
        member.id, client=api, body=models.MemberPatch(city="Lyon"), if_match=etag
    )
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.Problem)
    assert stale.parsed.status == 412


def _client_for(client_module: ModuleType, app: Any, token: str) -> Any:
    api = client_module.AuthenticatedClient(base_url=BASE_URL, token=token)
    return api.set_httpx_client(
        httpx.Client(
            base_url=BASE_URL,
            transport=httpx.WSGITransport(app=app),
            headers={"Authorization": f"Bearer {token}"},
        )
    )


def test_generated_client_partner_flow(app, session, generated):
    """A partner's server: client-credentials login, a create retried with its idempotency
    key, paging, a batch upsert, and the history that names the client."""
    client_module, models = generated["client"], generated["models"]
    issue_token = generated["api.auth.issue_token"]
    admin = make_user(session, role="admin")
    session.commit()
    anonymous = client_module.Client(base_url=BASE_URL).set_httpx_client(_transport(app))
    admin_token = issue_token.sync(
        client=anonymous, body=models.TokenRequest(email=admin.email, password=PASSWORD)
    )
    registered = generated["api.api_clients.create_api_client"].sync(
        client=_client_for(client_module, app, admin_token.access_token),
        body=models.ApiClientCreate(
            name="Regional agency",
            scopes=[models.ClientScope.MEMBERSREAD, models.ClientScope.MEMBERSWRITE],
        ),
    )
    assert isinstance(registered, models.ApiClientWithSecret)

    token = issue_token.sync(
        client=anonymous,
        body=models.ClientCredentialsRequest(
            grant_type=models.GrantType.CLIENT_CREDENTIALS,
            client_id=str(registered.client_id),
            client_secret=registered.client_secret,
        ),
    )
    assert isinstance(token, models.TokenOut)
    assert token.scope == "members:read members:write"
    partner = _client_for(client_module, app, token.access_token)

    create = generated["api.members.create_member"]
    body = models.MemberCreate(name="Biolab", category=models.MemberCategory.SME)
    first = create.sync_detailed(client=partner, body=body, idempotency_key="sync-0001")
    retry = create.sync_detailed(client=partner, body=body, idempotency_key="sync-0001")
    assert first.status_code == retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.parsed.id == first.parsed.id

    batch = generated["api.members.batch_write_members"].sync_detailed(
        client=partner,
        body=models.MemberBatch(
            items=[
                models.MemberCreate(
                    name=f"Partner {n}",
                    category=models.MemberCategory.SME,
                    external_id=f"agency-{n}",
                )
                for n in range(3)
            ]
        ),
    )
    assert batch.status_code == 207, batch.content
    assert [result.status for result in batch.parsed.results] == [201, 201, 201]

    seen, cursor = [], types_unset(generated)
    while True:
        page = generated["api.members.list_members"].sync(client=partner, limit=2, cursor=cursor)
        seen += [row.id for row in page.data]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 4

    history = generated["api.changes.get_member_history"].sync(first.parsed.id, client=partner)
    assert isinstance(history, models.HistoryPage)
    assert [entry.type_ for entry in history.data] == ["member.created"]
    assert history.data[0].api_client_id == registered.id
    assert history.data[0].actor_user_id is None
