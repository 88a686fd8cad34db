"""What the spec says beyond each view's decorators, written once for every operation.

- Operation ids, request examples and links come from the tables of ``api/operations.py``.
- Operations without a security requirement are public and say so (``security: []``).
- A request body with no required field may be left out, and says so.
- Response bodies list every field they always carry as ``required`` (nullable ones too),
  so that generated clients type them as present. A field that a response leaves out in some
  cases says so with ``metadata={"may_be_absent": True}``.
- String fields that refuse NUL characters (``schemas.fields.Text``) carry a ``pattern``
  saying so, unless a stricter pattern is already there.
- Every POST that needs a scope (those that create or act) takes an optional
  ``Idempotency-Key`` header (``api/idempotency.py``) and documents its 409 and 422.
- Every GET answering a record with an ``ETag`` takes ``If-None-Match`` and documents its 304
  (``api/conditional.py``).
- Every enumeration is a named schema component (``MemberCategory``, ``MemberSort``...) that
  fields refer to, nullable ones through ``anyOf`` with ``null``: generated clients then have
  one class per enumeration instead of one (or three) per field that uses it.
"""

from typing import Any

import marshmallow as ma
from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow.common import resolve_schema_instance

from api.operations import LINKS, OPERATION_IDS, REQUEST_EXAMPLES
from models import (
    HEADCOUNT_BANDS,
    AffiliationRole,
    AidForm,
    LabelDecision,
    MemberCategory,
    PartnerRole,
    PhoneKind,
    Programme,
    ProjectState,
    SubmissionOutcome,
)
from schemas.common import MAY_BE_ABSENT
from schemas.contacts import LANGUAGES
from schemas.exports import EXPORT_FORMATS
from schemas.fields import Text
from services.api_clients import CLIENT_SCOPES
from services.geography import DEPARTEMENTS
from services.roles import ALL_SCOPES, Role

OAUTH2_SCHEME = "oauth2"
BEARER_SCHEME = "bearerAuth"
TOKEN_URL = "/api/v1/auth/token"
IF_NONE_MATCH = "IF_NONE_MATCH"
IF_NONE_MATCH_PARAMETER = {
    "name": "If-None-Match",
    "required": False,
    "description": "The `ETag` you hold: if the record still has it, the answer is 304 with no "
    "body.",
    "schema": {"type": "string"},
}
IDEMPOTENCY_KEY = "IDEMPOTENCY_KEY"
IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "required": False,
    "description": "Any unique string (a UUID, say) to make retries safe: the first answer to "
    "a key is kept for 24 hours and replayed to a retry with the same key (same status, body "
    "and headers, plus `Idempotent-Replayed: true`). The same key with another body or path "
    "is a 422; a retry while the first request still runs waits for its answer, or gets a "
    "409 with `Retry-After` after a few seconds.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}
# JSON Schema (ECMA-262) and Python both read \u0000 as the NUL character.
NO_NUL_PATTERN = "^[^\\u0000]*$"


def security_requirement(scope: str | None) -> list[dict[str, list[str]]]:
    """An operation's ``security``: a token granting ``scope`` (any token when None), obtained
    through the OAuth 2 scheme or pasted as a bearer token."""
    scopes = [scope] if scope else []
    return [{OAUTH2_SCHEME: scopes}, {BEARER_SCHEME: scopes}]


# Names of the enumerations, by their values. Others are named after the schema and the field
# (``sort`` of ``MemberQuery``: ``MemberSort``); two fields with the same values share one.
ENUM_NAMES: dict[frozenset[str], str] = {
    frozenset(ALL_SCOPES): "Scope",
    frozenset(CLIENT_SCOPES): "ClientScope",
    frozenset({"client_credentials"}): "GrantType",
    frozenset(EXPORT_FORMATS): "ExportFormat",
    frozenset(Role): "Role",
    frozenset(MemberCategory): "MemberCategory",
    frozenset(HEADCOUNT_BANDS): "HeadcountBand",
    frozenset(DEPARTEMENTS): "Departement",
    frozenset(PhoneKind): "PhoneKind",
    frozenset(AffiliationRole): "AffiliationRole",
    frozenset(LANGUAGES): "Language",
    frozenset(ProjectState): "ProjectState",
    frozenset(Programme): "Programme",
    frozenset(LabelDecision): "LabelDecision",
    frozenset(SubmissionOutcome): "SubmissionOutcome",
    frozenset(PartnerRole): "PartnerRole",
    frozenset(AidForm): "AidForm",
}


def _derived_enum_name(field: ma.fields.Field) -> str:
    schema = field.parent
    while isinstance(schema, ma.fields.Field):
        field, schema = schema, schema.parent
    prefix = type(schema).__name__.removesuffix("Query") if schema is not None else ""
    return prefix + "".join(part.title() for part in (field.name or "").split("_"))


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


def _answers_etag(operation: dict[str, Any]) -> bool:
    responses = operation.get("responses", {})
    ok = responses.get(200) or responses.get("200")
    return isinstance(ok, dict) and "ETag" in ok.get("headers", {})


class ContractPlugin(BasePlugin):
    """An apispec plugin (after the marshmallow one) adding what the module docstring lists."""

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        self.spec = spec
        # Sorted values of an enumeration -> its component's name.
        self.enum_components: dict[tuple[str, ...], str] = {}
        # Component name -> the fields its schema always serialises.
        self.always_present: dict[str, list[str]] = {}
        # Components read from request bodies keep the ``required`` of their loading rules,
        # even when a response embeds them too.
        self.inputs: set[str] = set()
        self.loading_required: dict[str, list[str] | None] = {}
        spec.components.parameter(IDEMPOTENCY_KEY, "header", IDEMPOTENCY_KEY_PARAMETER)
        spec.components.parameter(IF_NONE_MATCH, "header", IF_NONE_MATCH_PARAMETER)

    def register_attribute_functions(self, converter: Any) -> None:
        """Add to the marshmallow plugin's field conversion (after its own functions)."""
        plugin = self

        def named_enum(_converter: Any, field: ma.fields.Field, ret: dict, **_kw: Any) -> dict:
            plugin.name_enumeration(field, ret)
            return {}

        converter.add_attribute_function(no_nul_pattern)
        converter.add_attribute_function(named_enum)

    def name_enumeration(self, field: ma.fields.Field, ret: dict[str, Any]) -> None:
        """Refer to the enumeration's component instead of inlining its values (the component
        is registered on first use)."""
        if "enum" not in ret:
            return
        values = [value for value in ret["enum"] if value is not None]
        key = tuple(sorted(values))
        name = (
            self.enum_components.get(key)
            or ENUM_NAMES.get(frozenset(values))
            or _derived_enum_name(field)
        )
        if key not in self.enum_components:
            if name in self.spec.components.schemas:
                raise ValueError(f"Two enumerations would be named {name}: add one to ENUM_NAMES.")
            self.spec.components.schema(name, {"type": "string", "enum": values})
            self.enum_components[key] = name
        nullable = len(values) < len(ret["enum"]) or "null" in (ret.get("type") or [])
        del ret["enum"]
        ret.pop("type", None)
        ref = {"$ref": f"#/components/schemas/{name}"}
        if nullable:
            ret["anyOf"] = [ref, {"type": "null"}]
        else:
            ret.update(ref)

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
            if method == "post" and any(any(req.values()) for req in operation["security"]):
                self._document_idempotency(operation)
            if method == "get" and _answers_etag(operation):
                operation.setdefault("parameters", []).append(IF_NONE_MATCH)
                operation.setdefault("responses", {})[304] = {
                    "description": "Not Modified: the record still has the `ETag` you sent.",
                    "headers": {"ETag": "ETAG"},
                }
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

    @staticmethod
    def _document_idempotency(operation: dict[str, Any]) -> None:
        """The ``Idempotency-Key`` header, and the 409 and 422 it may answer."""
        operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
        responses = operation.setdefault("responses", {})
        for status, name in ((409, "CONFLICT"), (422, "UNPROCESSABLE_ENTITY")):
            if status not in responses and str(status) not in responses:
                responses[status] = name

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
