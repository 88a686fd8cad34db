"""Row loaders compiled once per schema: what ``schema.load`` gives, several times faster.

An import loads every row with the API's body schema, and marshmallow's generic machinery
(an error store, a closure and a ``deserialize`` call per field, then the hooks) costs more
than the checks themselves on a hundred thousand rows. ``compiled_loader(schema)`` reads the
schema's fields once and returns a function that loads one row the same way, so that the
schema stays the one description of the rules:

- each field present is deserialized by a fast function built from the field's own attributes
  (its class, its validators) when its class has one, else by the field's own ``deserialize``;
  a fast function only answers for values it is sure of (a plain string, nine digits whose
  Luhn check holds...), and hands anything else to ``deserialize``, so that every error
  message is marshmallow's own;
- a missing field costs nothing unless it is required or has a default (then ``deserialize``);
- unknown keys, ``@validates`` and ``@validates_schema`` hooks and ``post_load`` hooks run
  through the schema's own methods, in marshmallow's order, with the same error store;
- a schema with ``pre_load`` hooks, ``many``, ``partial`` or an ``unknown`` other than
  ``RAISE`` is loaded by ``schema.load`` itself.

``tests/imports/test_compiled_loading.py`` compares the two on generated valid and invalid rows.
"""

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

import marshmallow as ma
from email_validator.syntax import DOT_ATOM_TEXT
from marshmallow.constants import RAISE, missing
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from marshmallow.error_store import ErrorStore

from schemas.fields import Email, Siren, Siret, Text, TrimmedString
from services.emails import EmailNotValidError, normalize_email

Loader = Callable[[Mapping[str, Any]], dict[str, Any]]
# What a fast function returns for a value it leaves to the field's own ``deserialize``.
SLOW: Any = object()
Fast = Callable[[Any], Any]


# Each digit doubled, then its digits summed (Luhn): 0 -> 0, 5 -> 1 (10), 9 -> 9 (18).
_DOUBLED = str.maketrans("0123456789", "0246813579")


def _luhn_holds(digits: str) -> bool:
    """The Luhn checksum of ASCII ``digits`` is zero (``stdnum.luhn.validate``'s test): from
    the right, every second digit counts doubled; the digits' sum is their bytes' sum less
    48 ("0") each."""
    counted = digits[-1::-2] + digits[-2::-2].translate(_DOUBLED)
    return (sum(counted.encode()) - 48 * len(counted)) % 10 == 0


def _string(field: ma.fields.Field) -> Fast:
    """``ma.fields.String``: a ``str`` is loaded as itself."""

    def fast(value: Any) -> Any:
        return value if type(value) is str else SLOW

    return fast


def _text(field: ma.fields.Field) -> Fast:
    """``Text``: a ``str`` without NUL is loaded as itself."""

    def fast(value: Any) -> Any:
        return value if type(value) is str and "\x00" not in value else SLOW

    return fast


def _trimmed(field: ma.fields.Field) -> Fast:
    """``TrimmedString``: stripped; blank goes the slow way when a minimum length refuses it."""
    refuses_blank = any(
        isinstance(validator, ma.validate.Length) and (validator.min or 0) > 0
        for validator in field.validators
    )

    def fast(value: Any) -> Any:
        if type(value) is not str or "\x00" in value:
            return SLOW
        text = value.strip()
        return SLOW if refuses_blank and not text else text

    return fast


def _integer(field: ma.fields.Field) -> Fast:
    """``ma.fields.Integer``: an ``int`` (not a bool) is loaded as itself."""

    def fast(value: Any) -> Any:
        return value if type(value) is int else SLOW

    return fast


def _digits(length: int, check: Callable[[str], bool]) -> Fast:
    def fast(value: Any) -> Any:
        if (
            type(value) is str
            and len(value) == length
            and value.isascii()
            and value.isdigit()
            and check(value)
        ):
            return value
        return SLOW

    return fast


def _siren(field: ma.fields.Field) -> Fast:
    """``Siren``: nine ASCII digits whose Luhn check holds are already compact and valid."""
    return _digits(9, _luhn_holds)


def _siret_holds(number: str) -> bool:
    # La Poste's SIRETs follow another rule (``stdnum.fr.siret``): left to the slow way.
    return not number.startswith("356000000") and _luhn_holds(number) and _luhn_holds(number[:9])


def _siret(field: ma.fields.Field) -> Fast:
    """``Siret``: fourteen ASCII digits whose SIRET and SIREN Luhn checks hold."""
    return _digits(14, _siret_holds)


_ASCII_DOMAIN = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\Z")
# Well under email-validator's limit (254 octets) on every form it checks.
_SHORT_ENOUGH = 200


@functools.lru_cache(maxsize=4096)
def _normal_domain(domain: str) -> str | None:
    """``normalize_email``'s form of an address's domain (after its ``@``), or None when the
    domain is not valid. The domain is checked apart from the local part, so a file's
    thousands of addresses at a few domains check each domain once."""
    try:
        return normalize_email(f"x@{domain}").partition("@")[2]
    except EmailNotValidError:
        return None


def _email(field: ma.fields.Field) -> Fast:
    """``Email``: an ASCII ``local@domain`` whose local part is a dot-atom (email-validator's
    own expression) and whose domain is valid normalises to the lower-cased local part and
    the domain's normal form; anything else (quotes, Unicode, spaces) goes the slow way."""

    def fast(value: Any) -> Any:
        if type(value) is not str or len(value) > _SHORT_ENOUGH or not value.isascii():
            return SLOW
        local, _, domain = value.partition("@")
        if not domain or not DOT_ATOM_TEXT.match(local) or not _ASCII_DOMAIN.match(domain):
            return SLOW
        normal = _normal_domain(domain)
        if normal is None or len(normal.encode()) + len(local) > _SHORT_ENOUGH:
            return SLOW
        return f"{local.lower()}@{normal}"

    return fast


# Field classes with a fast function, by exact class: a subclass may change what loading
# means, so it is loaded by its own ``deserialize`` until it gets an entry here.
FAST_FIELDS: dict[type[ma.fields.Field], Callable[[ma.fields.Field], Fast]] = {
    ma.fields.String: _string,
    Text: _text,
    TrimmedString: _trimmed,
    ma.fields.Integer: _integer,
    Siren: _siren,
    Siret: _siret,
    Email: _email,
}


def _field_loader(name: str, field: ma.fields.Field) -> Callable[[Any, Any], Any]:
    """``(value, data) -> loaded value`` for a value present in the row; raises marshmallow's
    ``ValidationError`` exactly as ``field.deserialize`` does."""
    deserialize = field.deserialize
    make_fast = FAST_FIELDS.get(type(field))
    if make_fast is None or field.pre_load or field.post_load:
        return lambda value, data: deserialize(value, name, data)
    fast = make_fast(field)
    validators = tuple(field.validators)
    allow_none = field.allow_none

    def load(value: Any, data: Any) -> Any:
        if value is None and allow_none:
            return None
        output = fast(value)
        if output is SLOW:
            return deserialize(value, name, data)
        try:
            for validator in validators:
                validator(output)
        except ma.ValidationError:
            return deserialize(value, name, data)  # its own message, all validators run
        return output

    return load


def _compilable(schema: ma.Schema) -> bool:
    return (
        not schema.many
        and not schema.partial
        and schema.unknown == RAISE
        and not schema._hooks[PRE_LOAD]
        # A dotted ``attribute`` nests the value (marshmallow's ``set_value``).
        and not any("." in (field.attribute or "") for field in schema.load_fields.values())
    )


Step = tuple[str, str, Callable[[Any, Any], Any]]


def _default_loader(key: str, field: ma.fields.Field) -> Callable[[Any, Any], Any]:
    """A field absent from the row: required (its message) or defaulted (its default)."""
    return lambda _value, data: field.deserialize(missing, key, data)


def _compile(schema: ma.Schema) -> Loader:
    """See the module docstring; mirrors ``Schema._do_load`` and ``Schema._deserialize``."""
    fields: list[tuple[str, str, Callable[[Any, Any], Any], Callable[[Any, Any], Any] | None]] = []
    for attr_name, field in schema.load_fields.items():
        key = field.data_key if field.data_key is not None else attr_name
        when_absent = None
        if field.required or field.load_default is not missing:
            when_absent = _default_loader(key, field)
        fields.append((key, field.attribute or attr_name, _field_loader(key, field), when_absent))
    keys = frozenset(key for key, _, _, _ in fields)
    unknown_message = schema.error_messages["unknown"]
    has_field_hooks = bool(schema._hooks[VALIDATES])
    schema_hook_kinds = [
        pass_collection
        for pass_collection in (True, False)
        if any(many == pass_collection for _, many, _ in schema._hooks[VALIDATES_SCHEMA])
    ]
    has_post_load = bool(schema._hooks[POST_LOAD])
    dict_class = schema.dict_class
    # The fields to load, in the schema's order, for each set of keys rows come with (the
    # rows of one file mostly share one): a field absent and without a rule for absence is
    # left out, as marshmallow leaves it out of the result.
    plans: dict[tuple[str, ...], list[Step]] = {}

    def plan_for(names: tuple[str, ...]) -> list[Step]:
        given = set(names)
        steps: list[Step] = []
        for key, target, load_present, when_absent in fields:
            if key in given:
                steps.append((key, target, load_present))
            elif when_absent is not None:
                steps.append((key, target, when_absent))
        if len(plans) > 256:
            plans.clear()
        plans[names] = steps
        return steps

    def load(data: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            return schema.load(data)
        store = ErrorStore()
        result = dict_class()
        names = tuple(data)
        steps = plans.get(names) or plan_for(names)
        for key, target, field_load in steps:
            try:
                loaded = field_load(data.get(key, missing), data)
            except ma.ValidationError as error:
                store.store_error(error.messages, key)
                loaded = error.valid_data or missing
            if loaded is not missing:
                result[target] = loaded
        if not keys.issuperset(data):
            for key in set(data) - keys:
                store.store_error([unknown_message], key)
        if has_field_hooks:
            schema._invoke_field_validators(error_store=store, data=result, many=False)
        if schema_hook_kinds:
            field_errors = bool(store.errors)
            for pass_collection in schema_hook_kinds:
                schema._invoke_schema_validators(
                    error_store=store,
                    pass_collection=pass_collection,
                    data=result,
                    original_data=data,
                    many=False,
                    partial=None,
                    unknown=RAISE,
                    field_errors=field_errors,
                )
        errors = store.errors
        if not errors and has_post_load:
            try:
                result = schema._invoke_load_processors(
                    POST_LOAD, result, many=False, original_data=data, partial=None, unknown=RAISE
                )
            except ma.ValidationError as error:
                errors = error.normalized_messages()
        if errors:
            exc = ma.ValidationError(errors, data=data, valid_data=result)
            schema.handle_error(exc, data, many=False, partial=None)
            raise exc
        return result

    return load


_LOADERS: dict[int, tuple[ma.Schema, Loader]] = {}


def compiled_loader(schema: ma.Schema) -> Loader:
    """The loader of ``schema`` (an instance, built once and kept: compiled once)."""
    cached = _LOADERS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    loader = _compile(schema) if _compilable(schema) else schema.load
    _LOADERS[id(schema)] = (schema, loader)
    return loader
