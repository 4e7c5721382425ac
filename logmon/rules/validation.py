"""Turning pydantic's validation errors into findings that point at the YAML that caused them."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from logmon.diagnostics import Finding, Location, RulesInvalid, Severity
from logmon.rules.source import LocatedDict, LocatedList, describe_type

ModelT = TypeVar("ModelT", bound=BaseModel)

_EXPECTED_KIND = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def validate_document(document: Any, model: type[ModelT], file_name: str, key_prefix: str | None = None) -> ModelT:
    """Validate a located YAML document; raises RulesInvalid with one finding per problem.

    With `key_prefix` (e.g. `logmon:settings`), each message starts with the full key it is about.
    """
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise RulesInvalid(list(findings_from(error, document, model, file_name, key_prefix))) from None


def findings_from(
    error: ValidationError,
    document: Any,
    model: type[BaseModel],
    file_name: str,
    key_prefix: str | None = None,
) -> list[Finding]:
    seen: dict[tuple[Any, ...], Finding] = {}
    grouped: dict[tuple[Any, ...], list[ErrorDetails]] = {}
    for detail in error.errors():
        data_path, _ = _walk(document, detail["loc"], detail["type"])
        grouped.setdefault(data_path, []).append(detail)
    for data_path, details in grouped.items():
        primary = _most_specific(details)
        finding = _finding(primary, document, model, file_name)
        if key_prefix is not None:
            dotted = ".".join([key_prefix, *(str(part) for part in data_path)])
            finding = Finding(
                finding.check,
                finding.severity,
                finding.location,
                f"`{dotted}`: {finding.message}",
                finding.text,
            )
        if len(details) > 1 and primary["type"] not in ("extra_forbidden", "missing"):
            alternatives = sorted({_message(d, model) for d in details})
            if len(alternatives) > 1:
                finding = Finding(
                    finding.check,
                    finding.severity,
                    finding.location,
                    "matches none of the accepted forms: " + "; or ".join(alternatives),
                    finding.text,
                )
        seen[(*data_path, primary["type"])] = finding
    return list(seen.values())


def _most_specific(details: list[ErrorDetails]) -> ErrorDetails:
    return max(details, key=lambda d: len(d["loc"]))


def _walk(document: Any, loc: tuple[int | str, ...], kind: str) -> tuple[tuple[Any, ...], Any]:
    """The part of `loc` that names data (skipping union member names), and the parent container."""
    node, parent = document, document
    path: list[Any] = []
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, dict) and isinstance(part, str) and part in node:  # noqa: SIM114 (mypy narrows each)
            parent, node = node, node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            parent, node = node, node[part]
            path.append(part)
        elif last and kind == "missing" and isinstance(part, str):
            parent = node
            path.append(part)
    return tuple(path), parent


def _finding(detail: ErrorDetails, document: Any, model: type[BaseModel], file_name: str) -> Finding:
    kind = detail["type"]
    data_path, parent = _walk(document, detail["loc"], kind)
    key = data_path[-1] if data_path else None
    location = _location(document, data_path, kind, file_name)
    message = _message(detail, model)
    check = {"extra_forbidden": "schema/unknown-key", "missing": "schema/missing-key"}.get(kind)
    if check is None:
        check = "schema/type" if kind in _EXPECTED_KIND or kind.endswith("_type") else "schema/value"
    text = key if kind in ("extra_forbidden", "missing") and isinstance(key, str) else _text(detail)
    del parent
    return Finding(check, Severity.ERROR, location, message, text)


def _location(document: Any, data_path: tuple[Any, ...], kind: str, file_name: str) -> Location:
    fallback = Location(file_name, 1, 1)
    node: Any = document
    container: Any = None
    for part in data_path[:-1]:
        container = node
        node = node[part]
    container = node
    key = data_path[-1] if data_path else None
    if key is None:
        return getattr(document, "location", fallback)
    if isinstance(container, LocatedDict):
        if kind == "missing":
            return container.location
        if kind == "extra_forbidden":
            return container.key_locations.get(key, container.location)
        return container.where(key)
    if isinstance(container, LocatedList) and isinstance(key, int):
        return container.where(key)
    return getattr(container, "location", fallback)


def _text(detail: ErrorDetails) -> str | None:
    value = detail.get("input")
    if isinstance(value, str | int | float | bool):
        return str(value)
    return None


def _message(detail: ErrorDetails, model: type[BaseModel]) -> str:
    kind = detail["type"]
    loc = detail["loc"]
    value = detail.get("input")
    context = detail.get("ctx") or {}
    key = loc[-1] if loc else None
    if kind == "missing":
        description = _field_description(model, loc)
        suffix = f" ({description})" if description else ""
        return f"missing required key '{key}'{suffix}"
    if kind == "extra_forbidden":
        refused = _refused_reason(model, loc[:-1], str(key))
        if refused is not None:
            return f"key '{key}' is not accepted: {refused}"
        allowed = _allowed_keys(model, loc[:-1])
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = (
            f"; did you mean '{close[0]}'?" if close else (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
        )
        return f"unknown key '{key}'{hint}"
    if kind in _EXPECTED_KIND:
        return f"expected {_EXPECTED_KIND[kind]}, got {describe_type(value)}{_shown(value)}"
    if kind == "literal_error":
        return f"{value!r} is not accepted here; expected {context.get('expected')}"
    if kind == "union_tag_invalid":
        return (
            f"unknown {context.get('discriminator', 'type')} {context.get('tag')!r}; "
            f"expected one of {context.get('expected_tags')}"
        )
    if kind == "union_tag_not_found":
        return f"missing {context.get('discriminator', 'type')!s}; say which kind this is"
    if kind == "string_too_short":
        return "must not be empty" if context.get("min_length") == 1 else detail["msg"].lower()
    if kind == "too_short":
        return f"needs at least {context.get('min_length')} item(s)"
    if kind == "string_pattern_mismatch":
        return f"{value!r} does not have the expected form {context.get('pattern')}"
    if kind == "value_error":
        return str(detail["msg"]).removeprefix("Value error, ")
    return str(detail["msg"])


def _shown(value: Any) -> str:
    if isinstance(value, str | int | float | bool) and len(repr(value)) <= 60:
        return f" {value!r}"
    return ""


def _resolve(model: type[BaseModel], loc: Iterable[int | str]) -> Any:
    """The annotation reached by following `loc` through models, dicts, lists and unions."""
    current: Any = model
    for part in loc:
        current = _strip(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
            continue
        origin = get_origin(current)
        if origin is dict:
            current = get_args(current)[1]
        elif origin is list:
            current = get_args(current)[0]
        elif origin in (typing.Union, types.UnionType):
            current = _member(get_args(current), part)
            if current is None:
                return None
        else:
            return None
    return _strip(current)


def _strip(annotation: Any) -> Any:
    """Remove Annotated wrappers and a `| None`, which pydantic does not name in error locations."""
    while True:
        if get_origin(annotation) is typing.Annotated:
            annotation = get_args(annotation)[0]
            continue
        if get_origin(annotation) in (typing.Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _member(members: tuple[Any, ...], name: int | str) -> Any:
    for candidate in members:
        member = _strip(candidate)
        if getattr(member, "__name__", None) == name:
            return member
        if isinstance(member, type) and issubclass(member, BaseModel):
            tag = member.model_fields.get("type")
            if tag is not None and name in get_args(tag.annotation):
                return member
    return None


def _allowed_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    resolved = _resolve(model, loc)
    if isinstance(resolved, type) and issubclass(resolved, BaseModel):
        return list(resolved.model_fields)
    return []


def _refused_reason(model: type[BaseModel], loc: tuple[int | str, ...], key: str) -> str | None:
    """Why a model refuses a key that people may expect it to take (its `refused_keys`), if it says."""
    resolved = _resolve(model, loc)
    refused = getattr(resolved, "refused_keys", None)
    return refused.get(key) if isinstance(refused, Mapping) else None


def _field_description(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    owner = _resolve(model, loc[:-1])
    if isinstance(owner, type) and issubclass(owner, BaseModel):
        field = owner.model_fields.get(str(loc[-1]))
        if field is not None and field.description:
            return field.description.split(". ")[0].rstrip(".")
    return ""
