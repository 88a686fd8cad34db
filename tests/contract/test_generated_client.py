"""A client generated from the checked-in spec by openapi-python-client, used as a third party
would: log in, create a member, read it, page through members, patch it with ``If-Match``.

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
        ]
        yield {name: importlib.import_module(f"{PACKAGE}.{name}") for name in names}
    finally:
        sys.path.remove(str(target))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


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
