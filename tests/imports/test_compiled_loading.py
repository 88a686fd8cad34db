"""The compiled row loader gives what ``schema.load`` gives: the same values for valid rows,
the same messages (fields, texts, order) and the same partial values for invalid ones."""

import json
from typing import Any

import marshmallow as ma
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from stdnum import luhn

from services.imports.loading import compiled_loader
from services.imports.registry import IMPORTERS

# Every schema an importer loads rows with through its compiled loader.
SCHEMAS = {
    f"{name}.{attribute}": getattr(importer, attribute)
    for name, importer in IMPORTERS.items()
    for attribute in getattr(importer, "compiled_schemas", ())
}


def _with_check_digit(digits: str) -> str:
    return digits + luhn.calc_check_digit(digits)


@st.composite
def sirens(draw: st.DrawFn) -> str:
    siren = _with_check_digit(draw(st.from_regex(r"\A[0-9]{8}\Z")))
    return draw(
        st.sampled_from([siren, siren[:-1] + "0", f" {siren} ", siren[:3] + " " + siren[3:]])
    )


@st.composite
def sirets(draw: st.DrawFn) -> str:
    siren = _with_check_digit(draw(st.from_regex(r"\A[0-9]{8}\Z")))
    siret = _with_check_digit(siren + draw(st.from_regex(r"\A[0-9]{4}\Z")))
    la_poste = _with_check_digit("356000000" + draw(st.from_regex(r"\A[0-9]{4}\Z")))
    return draw(st.sampled_from([siret, siret[:-1] + "1", la_poste, "35600000000048", siret[:13]]))


DOMAINS = ["exemple.fr", "EXEMPLE.FR", "xn--exmple-cua.fr", "exämple.fr", "localhost",
           "a..fr", "-bad.fr", "x.local", "123.456", "ok-domain.co.uk", "example.invalid", "fr",
           "a.b"]  # fmt: skip
LOCALS = st.from_regex(r"\A[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-\"ü ]{0,70}\Z")


@st.composite
def emails(draw: st.DrawFn) -> str:
    local = draw(st.one_of(LOCALS, st.sampled_from(["contact", "Jean.Dupont", "a..b", ".a"])))
    domain = draw(st.sampled_from(DOMAINS))
    return draw(st.sampled_from([f"{local}@{domain}", f"{local}{domain}", f"{local}@@{domain}"]))


def _values_for(field: ma.fields.Field) -> st.SearchStrategy[Any]:
    """Plausible and broken values for ``field``: what a spreadsheet cell may turn into."""
    junk = st.one_of(
        st.none(),
        st.text(max_size=12),
        st.integers(-5, 3000),
        st.booleans(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.lists(st.text(max_size=5), max_size=3),
        st.sampled_from(["", "  ", "\x00", " a\x00", "x" * 210, "FR", "fr", "startup"]),
    )
    specific: list[st.SearchStrategy[Any]] = []
    name = type(field).__name__
    if name == "Siren":
        specific.append(sirens())
    elif name == "Siret":
        specific.append(sirets())
    elif name == "Email":
        specific.append(emails())
    elif isinstance(field, ma.fields.String):
        specific.append(st.text(max_size=60))
    for validator in field.validators:
        if isinstance(validator, ma.validate.OneOf):
            specific.append(st.sampled_from(list(validator.choices)))
    return st.one_of(*specific, junk) if specific else junk


VALID = {"name": " Santé ", "legal_name": "Santé SAS", "category": "sme", "siren": "552120222",
         "siret": "55212022200013", "vat_number": "FR27552120222", "headcount_band": None,
         "email": "Jean.Dupont@Exemple.FR", "year_founded": 2012, "postal_code": "91000",
         "city": "Évry", "country": "fr", "street": " 1 rue X ", "description": None,
         "domains": ["imaging"], "website": "www.exemple.fr", "phone": "01 42 68 53 00",
         "external_id": "R-1", "first_name": " Jeanne ", "last_name": "Dupont",
         "preferred_language": "fr", "notes": None, "member_external_id": "M-1",
         "member_siren": "552120222"}  # fmt: skip


@st.composite
def rows(draw: st.DrawFn, schema: ma.Schema) -> dict[str, Any]:
    """Half of them a valid row with a few fields changed or dropped, half anything."""
    if draw(st.booleans()):
        row = {key: value for key, value in VALID.items() if key in schema.load_fields}
        for name in draw(st.lists(st.sampled_from(sorted(schema.load_fields)), max_size=3)):
            if draw(st.booleans()):
                row[name] = draw(_values_for(schema.load_fields[name]))
            else:
                row.pop(name, None)
        return row
    row = {}
    for name, field in schema.load_fields.items():
        if draw(st.integers(0, 4)) > 0:  # most rows carry most fields
            row[field.data_key or name] = draw(_values_for(field))
    if draw(st.integers(0, 20)) == 0:
        row[draw(st.sampled_from(["unknown", "Remarque"]))] = "x"
    return row


def _outcome(load: Any, row: dict[str, Any]) -> tuple[str, str]:
    """What loading gives, serialised with its order (a report lists errors in that order)."""
    try:
        return "ok", json.dumps(load(dict(row)), default=repr)
    except ma.ValidationError as exc:
        return "error", json.dumps([exc.messages, exc.valid_data], default=repr)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
@example(data=None)
def test_compiled_loader_matches_schema_load(name, data):
    schema = SCHEMAS[name]
    if data is None:  # a valid row of every kind of field, at least once
        row = {key: value for key, value in VALID.items() if key in schema.load_fields}
        assert _outcome(schema.load, row)[0] == "ok"
    else:
        row = data.draw(rows(schema))
    assert _outcome(compiled_loader(schema), row) == _outcome(schema.load, row)


def test_every_compiled_schema_is_covered():
    assert {"members.schema", "contacts.contact_schema", "contacts.member_schema"} <= set(SCHEMAS)
    for schema in SCHEMAS.values():
        assert isinstance(schema, ma.Schema)
