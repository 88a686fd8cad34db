"""What the spec says beyond each view's decorators, written once for every operation.

- ``OPERATION_IDS``: a stable, readable ``operationId`` per operation (generated clients name
  their functions after it), keyed by endpoint and method. A new operation needs an entry; a
  test fails until it has one.
- ``REQUEST_EXAMPLES``: an example body per operation that takes one, as documentation
  tools show it; a test sends each to the API and expects it accepted.
- ``LINKS``: how the answer of one operation feeds the next (create, then read), so that
  clients and stateful test tools can follow them.
- Operations without a security requirement are public and say so (``security: []``).
- A request body with no required field may be left out, and says so.
- Response bodies list every field they always carry as ``required`` (nullable ones too),
  so that generated clients type them as present. A field that a response leaves out in some
  cases says so with ``metadata={"may_be_absent": True}``.
- String fields that refuse NUL characters (``schemas.fields.Text``) carry a ``pattern``
  saying so, unless a stricter pattern is already there.
- Every enumeration is a named schema component (``MemberCategory``, ``MemberSort``...) that
  fields refer to, nullable ones through ``anyOf`` with ``null``: generated clients then have
  one class per enumeration instead of one (or three) per field that uses it.
"""

from typing import Any

import marshmallow as ma
from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow.common import resolve_schema_instance

from models import HEADCOUNT_BANDS, AffiliationRole, MemberCategory, PhoneKind
from schemas.common import MAY_BE_ABSENT
from schemas.contacts import LANGUAGES
from schemas.fields import Text
from services.geography import DEPARTEMENTS
from services.roles import ALL_SCOPES, Role

OAUTH2_SCHEME = "oauth2"
BEARER_SCHEME = "bearerAuth"
TOKEN_URL = "/api/v1/auth/token"
# JSON Schema (ECMA-262) and Python both read \u0000 as the NUL character.
NO_NUL_PATTERN = "^[^\\u0000]*$"

OPERATION_IDS: dict[tuple[str, str], str] = {
    ("health.Liveness", "get"): "getLiveness",
    ("health.Readiness", "get"): "getReadiness",
    ("auth.Token", "post"): "issueToken",
    ("auth.Refresh", "post"): "refreshToken",
    ("auth.Logout", "post"): "logout",
    ("auth.Me", "get"): "getCurrentUser",
    ("users.Users", "get"): "listUsers",
    ("users.Users", "post"): "createUser",
    ("users.UserById", "get"): "getUser",
    ("users.UserById", "patch"): "updateUser",
    ("users.UserById", "delete"): "deleteUser",
    ("users.UserDeactivation", "post"): "deactivateUser",
    ("users.UserReactivation", "post"): "reactivateUser",
    ("members.Members", "get"): "listMembers",
    ("members.Members", "post"): "createMember",
    ("members.MemberById", "get"): "getMember",
    ("members.MemberById", "patch"): "updateMember",
    ("members.MemberById", "delete"): "deleteMember",
    ("members.MemberArchiveAction", "post"): "archiveMember",
    ("members.MemberRestoreAction", "post"): "restoreMember",
    ("members.MemberByExternalId", "put"): "upsertMemberByExternalId",
    ("domains.Domains", "get"): "listDomains",
    ("domains.Domains", "post"): "createDomain",
    ("domains.DomainById", "get"): "getDomain",
    ("domains.DomainById", "patch"): "updateDomain",
    ("contacts.Contacts", "get"): "listContacts",
    ("contacts.Contacts", "post"): "createContact",
    ("contacts.ContactByExternalId", "put"): "upsertContactByExternalId",
    ("contacts.ContactById", "get"): "getContact",
    ("contacts.ContactById", "patch"): "updateContact",
    ("contacts.ContactById", "delete"): "deleteContact",
    ("contacts.ContactArchiving", "post"): "archiveContact",
    ("contacts.ContactRestoring", "post"): "restoreContact",
    ("contacts.Affiliations", "get"): "listContactAffiliations",
    ("contacts.Affiliations", "post"): "createAffiliation",
    ("contacts.AffiliationById", "get"): "getAffiliation",
    ("contacts.AffiliationById", "patch"): "updateAffiliation",
    ("contacts.AffiliationById", "delete"): "deleteAffiliation",
    ("contacts.MemberContacts", "get"): "listMemberContacts",
}


def security_requirement(scope: str | None) -> list[dict[str, list[str]]]:
    """An operation's ``security``: a token granting ``scope`` (any token when None), obtained
    through the OAuth 2 scheme or pasted as a bearer token."""
    scopes = [scope] if scope else []
    return [{OAUTH2_SCHEME: scopes}, {BEARER_SCHEME: scopes}]


def _link(operation_id: str, description: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": parameters, "description": description}


_READ_MEMBER = _link("getMember", "Read the member.", member_id="$response.body#/id")
_READ_CONTACT = _link("getContact", "Read the contact.", contact_id="$response.body#/id")
_READ_USER = _link("getUser", "Read the user.", user_id="$response.body#/id")
_READ_DOMAIN = _link("getDomain", "Read the domain.", domain_id="$response.body#/id")

# operationId -> status -> link name -> link.
LINKS: dict[str, dict[str, dict[str, dict[str, Any]]]] = {
    "createMember": {
        "201": {
            "GetMember": _READ_MEMBER,
            "UpdateMember": _link(
                "updateMember", "Change the member.", member_id="$response.body#/id"
            ),
            "ListMemberContacts": _link(
                "listMemberContacts", "List its contacts.", member_id="$response.body#/id"
            ),
            "ArchiveMember": _link(
                "archiveMember", "Archive the member.", member_id="$response.body#/id"
            ),
            "DeleteMember": _link(
                "deleteMember", "Delete the member.", member_id="$response.body#/id"
            ),
        }
    },
    "archiveMember": {
        "200": {
            "RestoreMember": _link(
                "restoreMember", "Restore the member.", member_id="$response.body#/id"
            )
        }
    },
    "archiveContact": {
        "200": {
            "RestoreContact": _link(
                "restoreContact", "Restore the contact.", contact_id="$response.body#/id"
            )
        }
    },
    "upsertMemberByExternalId": {
        "200": {"GetMember": _READ_MEMBER},
        "201": {"GetMember": _READ_MEMBER},
    },
    "createContact": {
        "201": {
            "GetContact": _READ_CONTACT,
            "UpdateContact": _link(
                "updateContact", "Change the contact.", contact_id="$response.body#/id"
            ),
            "ListContactAffiliations": _link(
                "listContactAffiliations",
                "List its affiliations.",
                contact_id="$response.body#/id",
            ),
            "CreateAffiliation": _link(
                "createAffiliation", "Affiliate it with a member.", contact_id="$response.body#/id"
            ),
            "ArchiveContact": _link(
                "archiveContact", "Archive the contact.", contact_id="$response.body#/id"
            ),
            "DeleteContact": _link(
                "deleteContact", "Erase the contact.", contact_id="$response.body#/id"
            ),
        }
    },
    "upsertContactByExternalId": {
        "200": {"GetContact": _READ_CONTACT},
        "201": {"GetContact": _READ_CONTACT},
    },
    "createAffiliation": {
        "201": {
            "GetAffiliation": _link(
                "getAffiliation",
                "Read the affiliation.",
                contact_id="$request.path.contact_id",
                affiliation_id="$response.body#/id",
            ),
            "UpdateAffiliation": _link(
                "updateAffiliation",
                "Change the affiliation.",
                contact_id="$request.path.contact_id",
                affiliation_id="$response.body#/id",
            ),
            "DeleteAffiliation": _link(
                "deleteAffiliation",
                "Delete the affiliation.",
                contact_id="$request.path.contact_id",
                affiliation_id="$response.body#/id",
            ),
            "GetMember": _link(
                "getMember", "Read the affiliated member.", member_id="$response.body#/member/id"
            ),
        }
    },
    "createUser": {
        "201": {
            "GetUser": _READ_USER,
            "DeactivateUser": _link(
                "deactivateUser", "Deactivate the user.", user_id="$response.body#/id"
            ),
        }
    },
    "createDomain": {"201": {"GetDomain": _READ_DOMAIN}},
}


# Names of the enumerations, by their values. Others are named after the schema and the field
# (``sort`` of ``MemberQuery``: ``MemberSort``); two fields with the same values share one.
ENUM_NAMES: dict[frozenset[str], str] = {
    frozenset(ALL_SCOPES): "Scope",
    frozenset(Role): "Role",
    frozenset(MemberCategory): "MemberCategory",
    frozenset(HEADCOUNT_BANDS): "HeadcountBand",
    frozenset(DEPARTEMENTS): "Departement",
    frozenset(PhoneKind): "PhoneKind",
    frozenset(AffiliationRole): "AffiliationRole",
    frozenset(LANGUAGES): "Language",
}


def _derived_enum_name(field: ma.fields.Field) -> str:
    schema = field.parent
    while isinstance(schema, ma.fields.Field):
        field, schema = schema, schema.parent
    prefix = type(schema).__name__.removesuffix("Query") if schema is not None else ""
    return prefix + "".join(part.title() for part in (field.name or "").split("_"))


def named_enum(self: Any, field: ma.fields.Field, ret: dict[str, Any], **_kwargs: Any) -> dict:
    """apispec attribute function: refer to the enumeration's component instead of inlining
    its values (registered on first use)."""
    if "enum" not in ret:
        return {}
    values = [value for value in ret["enum"] if value is not None]
    by_values: dict[tuple, str] = self.spec.enum_components  # type: ignore[attr-defined]
    key = tuple(sorted(values))
    name = by_values.get(key) or ENUM_NAMES.get(frozenset(values)) or _derived_enum_name(field)
    if key not in by_values:
        if name in self.spec.components.schemas:
            raise ValueError(f"Two enumerations would be named {name}: name one in ENUM_NAMES.")
        self.spec.components.schema(name, {"type": "string", "enum": values})
        by_values[key] = name
    nullable = len(values) < len(ret["enum"]) or "null" in (ret.get("type") or [])
    del ret["enum"]
    ret.pop("type", None)
    ref = {"$ref": f"#/components/schemas/{name}"}
    if nullable:
        ret["anyOf"] = [ref, {"type": "null"}]
    else:
        ret.update(ref)
    return {}


# The member ``createAffiliation``'s example names (tests create it before sending the example).
EXAMPLE_MEMBER_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

# operationId -> example name -> example body.
REQUEST_EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "issueToken": {
        "login": {"email": "admin@example.org", "password": "correct horse battery staple"},
        "read-only": {
            "email": "admin@example.org",
            "password": "correct horse battery staple",
            "scopes": ["members:read", "contacts:read"],
        },
    },
    "createUser": {
        "staff": {
            "email": "claire.martin@example.org",
            "password": "a long enough passphrase",
            "role": "staff",
            "full_name": "Claire Martin",
        }
    },
    "updateUser": {"promote": {"full_name": "Claire Martin-Dubois", "role": "admin"}},
    "createMember": {
        "company": {
            "name": "Société Générale",
            "legal_name": "SOCIETE GENERALE",
            "category": "large_company",
            "siren": "552120222",
            "siret": "55212022200013",
            "vat_number": "FR27552120222",
            "headcount_band": "53",
            "year_founded": 1864,
            "website": "https://www.example.fr",
            "email": "contact@example.fr",
            "phone": "+33142685300",
            "street": "29 boulevard Haussmann",
            "postal_code": "75009",
            "city": "Paris",
            "domains": ["digital_health"],
        },
        "laboratory": {"name": "Institut Imagine", "category": "academic_lab", "city": "Paris"},
    },
    "updateMember": {"move": {"street": "2 rue Gaston Crémieux", "postal_code": "91000"}},
    "archiveMember": {"left": {"reason": "Left the cluster at the end of its membership."}},
    "restoreMember": {"rejoined": {"reason": "Rejoined the cluster."}},
    "upsertMemberByExternalId": {
        "import": {
            "name": "Genopole",
            "category": "public_body",
            "postal_code": "91000",
            "city": "Évry-Courcouronnes",
            "domains": ["biotech"],
        }
    },
    "createDomain": {"new": {"code": "genomics", "label": "Genomics"}},
    "updateDomain": {"relabel": {"label": "Genomics and sequencing"}},
    "createContact": {
        "person": {
            "first_name": "Claire",
            "last_name": "Martin",
            "email": "claire.martin@example.fr",
            "phones": [{"number": "+33142685300", "kind": "work"}],
            "preferred_language": "fr",
        }
    },
    "upsertContactByExternalId": {
        "import": {"first_name": "Louis", "last_name": "Pasteur", "email": "l.pasteur@example.fr"}
    },
    "updateContact": {"notes": {"notes": "Prefers e-mail to phone calls."}},
    "archiveContact": {"left": {"reason": "Left the company."}},
    "restoreContact": {"back": {"reason": "Back in the company."}},
    "createAffiliation": {
        "primary": {
            "member_id": EXAMPLE_MEMBER_ID,
            "job_title": "Chief scientific officer",
            "roles": ["decision_maker", "technical"],
            "start_date": "2024-01-15",
            "is_primary": True,
        }
    },
    "updateAffiliation": {"board": {"roles": ["board"], "end_date": "2030-12-31"}},
}


def _refs(node: Any) -> list[str]:
    """Names of the schema components a (resolved) schema object refers to."""
    if isinstance(node, dict):
        found = []
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.append(ref.rsplit("/", 1)[1])
        for value in node.values():
            found += _refs(value)
        return found
    if isinstance(node, list):
        return [name for item in node for name in _refs(item)]
    return []


def no_nul_pattern(self: Any, field: ma.fields.Field, ret: dict[str, Any], **_kwargs: Any) -> dict:
    """apispec attribute function: a ``Text`` field refuses NUL; say so with a pattern."""
    if isinstance(field, Text) and "pattern" not in ret:
        return {"pattern": NO_NUL_PATTERN}
    return {}


class ContractPlugin(BasePlugin):
    """An apispec plugin (after the marshmallow one) adding what the module docstring lists."""

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        self.spec = spec
        spec.enum_components = {}  # type: ignore[attr-defined]
        # Component name -> the fields its schema always serialises.
        self.always_present: dict[str, list[str]] = {}
        # Components read from request bodies keep the ``required`` of their loading rules,
        # even when a response embeds them too.
        self.inputs: set[str] = set()
        self.loading_required: dict[str, list[str] | None] = {}

    def schema_helper(self, name: str, definition: dict, **kwargs: Any) -> None:
        schema = kwargs.get("schema")
        if schema is None:
            return
        instance = resolve_schema_instance(schema)
        self.always_present[name] = [
            field.data_key or field_name
            for field_name, field in instance.fields.items()
            if not field.load_only and not field.metadata.get(MAY_BE_ABSENT)
        ]

    def response_helper(self, response: dict, **kwargs: Any) -> None:
        """Error responses registered as components (``Problem`` bodies)."""
        self._mark_required(_refs(response.get("content", {})))

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        rule = kwargs.get("rule")
        endpoint = rule.endpoint if rule is not None else ""
        for method, operation in (operations or {}).items():
            operation_id = OPERATION_IDS.get((endpoint, method))
            if operation_id:
                operation["operationId"] = operation_id
            operation.setdefault("security", [])
            body = operation.get("requestBody")
            if isinstance(body, dict):
                self._mark_inputs(_refs(body.get("content", {})))
                self._optional_when_nothing_required(body)
                examples = REQUEST_EXAMPLES.get(operation_id or "")
                media = body.get("content", {}).get("application/json")
                if examples and isinstance(media, dict):
                    media["examples"] = {name: {"value": v} for name, v in examples.items()}
            responses = operation.get("responses", {})
            links = LINKS.get(operation_id or "", {})
            for status, response in responses.items():
                # flask-smorest keys responses by int, the spec by string.
                if str(status) in links and isinstance(response, dict):
                    response["links"] = links[str(status)]
            for response in responses.values():
                if isinstance(response, dict):
                    self._mark_required(_refs(response.get("content", {})))

    def _optional_when_nothing_required(self, body: dict[str, Any]) -> None:
        """A body none of whose fields is required may be left out (the server reads it as
        ``{}``): say so, rather than promise a refusal that never comes."""
        names = _refs(body.get("content", {}))
        schemas = self.spec.components.schemas
        if names and all(name in schemas and not schemas[name].get("required") for name in names):
            body["required"] = False

    def _components_from(self, names: list[str]) -> list[str]:
        """These components and those they embed, transitively."""
        pending, seen = list(names), []
        schemas = self.spec.components.schemas
        while pending:
            name = pending.pop()
            if name in seen or name not in schemas:
                continue
            seen.append(name)
            pending += _refs(schemas[name].get("properties", {}))
        return seen

    def _mark_inputs(self, names: list[str]) -> None:
        for name in self._components_from(names):
            self.inputs.add(name)
            if name in self.loading_required:
                self._set_required(name, self.loading_required.pop(name))

    def _mark_required(self, names: list[str]) -> None:
        """List the always-present fields of these response components (and of the components
        they embed) as required."""
        for name in self._components_from(names):
            if name in self.inputs or name in self.loading_required:
                continue
            component = self.spec.components.schemas[name]
            self.loading_required[name] = component.get("required")
            present = set(self.always_present.get(name, ()))
            self._set_required(name, [p for p in component.get("properties", {}) if p in present])

    def _set_required(self, name: str, required: list[str] | None) -> None:
        component = self.spec.components.schemas[name]
        if required:
            component["required"] = required
        else:
            component.pop("required", None)
