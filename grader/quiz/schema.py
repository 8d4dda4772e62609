"""The quiz JSON Schema (schema.json, shipped for editors) and readable messages for its errors.

The schema checks structure: keys, types, ranges. Everything that needs more
than one value at a time (duplicate ids, exactly one correct option, formulas,
regular expressions, translations) is checked in `semantics.py`.
"""

from __future__ import annotations

import difflib
import json
import sys
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Iterable

from .yamlsrc import Problem, YamlDoc

if TYPE_CHECKING:
    import jsonschema

SCHEMA_FILE = "schema.json"


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The quiz schema as a dict."""
    return json.loads(resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def schema_text() -> str:
    return resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def _import_jsonschema():
    """Import jsonschema without the optional `rfc3987_syntax`, which builds a grammar at import (~1 s).

    The quiz schema uses no "format" keywords, so jsonschema's IRI format checks
    are not needed; the block is lifted right after the import, so later imports
    of `rfc3987_syntax` by anyone else work as usual.
    """
    if "jsonschema" in sys.modules:
        return sys.modules["jsonschema"]
    blocked = "rfc3987_syntax" not in sys.modules
    if blocked:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # makes its import fail
    try:
        import jsonschema
    finally:
        if blocked:
            del sys.modules["rfc3987_syntax"]
    return jsonschema


@lru_cache(maxsize=1)
def _validator() -> "jsonschema.Draft7Validator":
    return _import_jsonschema().Draft7Validator(load_schema())


def schema_problems(doc: YamlDoc) -> list[Problem]:
    """Every structural problem of a parsed quiz file, located and explained."""
    problems: list[Problem] = []
    for error in _validator().iter_errors(doc.data):
        problems.extend(_translate(error, doc))
    return problems


def describe(value: Any) -> str:
    """How a value reads in a message: "the string 'abc'", "a list", ..."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        short = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {short!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _where(path: tuple, data: Any) -> str:
    """A phrase naming the place: "question 'q3'", "option 2 of question 'q3'", "the quiz"."""
    if len(path) >= 2 and path[0] == "questions" and isinstance(path[1], int):
        q = data["questions"][path[1]] if isinstance(data, dict) else None
        qname = f"question {q['id']!r}" if isinstance(q, dict) and isinstance(q.get("id"), str) \
            else f"question {path[1] + 1}"
        if len(path) >= 4 and path[2] in ("options", "items", "rubric") and isinstance(path[3], int):
            what = {"options": "option", "items": "item", "rubric": "rubric item"}[path[2]]
            return f"{what} {path[3] + 1} of {qname}"
        if len(path) >= 3 and path[2] == "params" and len(path) >= 4:
            return f"parameter {path[3]!r} of {qname}"
        return qname
    return "the quiz"


def _field(path: tuple) -> str:
    """A dotted name for the value at `path` within its question: "tolerance.abs"."""
    tail = list(path[2:]) if len(path) >= 2 and path[0] == "questions" else list(path)
    out = ""
    for part in tail:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "value"


def _get(data: Any, path: Iterable) -> Any:
    for part in path:
        data = data[part]
    return data


def _translate(error: "jsonschema.ValidationError", doc: YamlDoc) -> list[Problem]:
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    expected = schema.get("x-expected", "")
    value = error.instance
    where = _where(path, doc.data)
    v = error.validator

    if v == "required":
        name = error.message.split("'")[1] if "'" in error.message else str(error.message)
        hint = _REQUIRED_HINTS.get(name)
        if hint is None:
            sub = schema.get("properties", {}).get(name, {})
            hint = sub.get("x-expected") or _ref_expected(sub)
        qtype = value.get("type") if isinstance(value, dict) else None
        what = f"a {qtype} question" if isinstance(qtype, str) and name in _TYPE_REQUIRED else where
        return [doc.problem(path, f"missing '{name}' in {what}" + (f" (expected {hint})" if hint else ""))]

    if v == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        qtype = value.get("type") if isinstance(value, dict) else None
        if "type" in allowed and qtype in type_keys():
            allowed = sorted(type_keys()[qtype])
        out = []
        for key in value:
            if key in schema.get("properties", {}):
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            out.append(doc.problem(path + (key,), f"unknown key '{key}' in {where} "
                                   f"(expected one of: {', '.join(allowed)}){hint}", key=True))
        return out

    if v is None and error.relative_schema_path and list(error.relative_schema_path)[-1] == "properties":
        # a key that the question's type forbids (`then: properties: {key: false}`); jsonschema
        # reports the question's path and the key's value, so find the key by its value
        parent = _get(doc.data, path)
        qtype = parent.get("type") if isinstance(parent, dict) else None
        allowed = type_keys().get(qtype, frozenset())
        out = []
        for key in (parent if isinstance(parent, dict) else {}):
            if key not in allowed and parent[key] is value:
                users = _TYPES_USING.get(key, "")
                out.append(doc.problem(path + (key,), f"'{key}' does not belong in a {qtype} question"
                                       + (f" (it is for {users} questions)" if users else ""), key=True))
        return out[:1] or [doc.problem(path, f"{where}: a key that does not belong in a {qtype} question")]

    if v == "enum":
        if path and path[-1] == "type":
            return [doc.problem(path, f"unknown question type {value!r} (expected one of: "
                                f"{', '.join(error.validator_value)})")]
        return [doc.problem(path, f"{_field(path)} is {describe(value)}; expected "
                            f"{expected or ' or '.join(map(str, error.validator_value))}")]

    if v == "type":
        return [doc.problem(path, f"{_field(path)} in {where}: expected {expected or error.validator_value}, "
                            f"got {describe(value)}")]

    if v in ("minimum", "exclusiveMinimum", "maximum"):
        op = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<="}[v]
        what = "negative tolerance: " if "tolerance" in path else ""
        return [doc.problem(path, f"{what}{_field(path)} in {where} must be {op} {error.validator_value}, "
                            f"got {value}")]

    if v in ("minItems", "minProperties"):
        n = len(value) if hasattr(value, "__len__") else 0
        return [doc.problem(path, f"{_field(path)} in {where}: expected {expected or 'more entries'}, "
                            f"got {n}")]

    if v == "minLength":
        return [doc.problem(path, f"{_field(path)} in {where} is empty; expected {expected or 'some text'}")]

    if v == "maxLength":
        return [doc.problem(path, f"{_field(path)} in {where} is longer than {error.validator_value} characters")]

    if v == "pattern":
        if "propertyNames" in error.relative_schema_path:
            return [doc.problem(path + (value,), f"{value!r} in {where} is not {expected or 'a valid name'}",
                                key=True)]
        return [doc.problem(path, f"{_field(path)} {value!r} in {where} is not {expected or 'valid'}")]

    return [doc.problem(path, f"{_field(path)} in {where}: {error.message}")]


@lru_cache(maxsize=1)
def type_keys() -> dict[str, frozenset[str]]:
    """Question type -> the keys a question of that type may have (read from the schema)."""
    question = load_schema()["definitions"]["question"]
    every = set(question["properties"])
    out = {}
    for rule in question["allOf"]:
        qtype = rule["if"]["properties"]["type"]["const"]
        banned = {k for k, sub in rule["then"].get("properties", {}).items() if sub is False}
        out[qtype] = frozenset(every - banned)
    return out


def _ref_expected(sub: dict) -> str:
    ref = sub.get("$ref", "")
    if ref.startswith("#/definitions/"):
        return load_schema()["definitions"][ref.rsplit("/", 1)[1]].get("x-expected", "")
    return sub.get("x-expected", "")


_REQUIRED_HINTS = {
    "answer": "answer: true or false",
    "options": "a list of options, each with id and text, the right ones with correct: true",
    "items": "a list of items with id and text, in the right order",
    "tags": "a list of concept tags, e.g. [lstm, gates]",
    "explanation": "a text shown in the feedback, e.g. {en: ..., zh: ...}",
    "rubric": "a list of rubric items, each with id, points and text, e.g. {id: bottleneck, points: 1, text: {en: ..., zh: ...}}",
    "model_answer": "a full-marks answer for graders, e.g. {en: ..., zh: ...}",
}
_TYPE_REQUIRED = {"answer", "options", "items", "rubric", "model_answer"}
_TYPES_USING = {
    "options": "single and multiple", "shuffle": "single and multiple", "scoring": "multiple and ordering",
    "answer": "true_false and numeric", "formula": "numeric", "params": "numeric", "derived": "numeric",
    "tolerance": "numeric", "unit": "numeric", "accept": "short", "patterns": "short", "items": "ordering",
    "examples": "short", "rubric": "free", "model_answer": "free",
}
