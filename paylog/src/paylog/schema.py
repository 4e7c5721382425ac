"""Checking an event's fields against the catalogue.

`check_fields` returns the problems; the logger decides what to do with them (raise in strict mode,
attach them as `schema_violations` in production).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import structlog

from paylog.catalogue import CATALOGUE, EventSpec, FieldSpec, FieldType
from paylog.redaction import preview


@dataclass(frozen=True, slots=True)
class Violation:
    field: str | None
    problem: str
    hint: str = ""

    def short(self) -> str:
        """The compact form written to `schema_violations`."""
        return self.problem if self.field is None else f"{self.field}: {self.problem}"

    def describe(self) -> str:
        """The long form used in exception messages."""
        where = "" if self.field is None else f"field {self.field!r}: "
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{self.problem}{hint}"


class ViolationCounter:
    """Log lines written with `schema_violations` (production mode) since start-up; export it as a metric."""

    __slots__ = ("lines",)

    def __init__(self) -> None:
        self.lines = 0


VIOLATIONS: Final = ViolationCounter()


def violation_lines() -> int:
    """How many lines this process wrote with schema violations."""
    return VIOLATIONS.lines


class EventSchemaError(ValueError):
    """A log call does not match the event catalogue (strict mode only)."""

    def __init__(self, event_type: str, violations: Sequence[Violation]) -> None:
        self.event_type = event_type
        self.violations = tuple(violations)
        details = "; ".join(v.describe() for v in self.violations)
        super().__init__(f"event {preview(event_type, 80)}: {details}")


class OwnViolations(list[str]):
    """`schema_violations` as the logger writes it; a caller's list under that key is moved aside."""


def short_repr(value: object, limit: int = 40) -> str:
    """A value quoted in a message: scanned like a logged value first, then cut where no token splits."""
    return preview(value, limit)


def _type_name(value: object) -> str:
    return type(value).__name__


_NUMBER_TYPES: Final = (int, float, Decimal)


_EXACT_TYPES: Final[Mapping[FieldType, frozenset[type]]] = {
    FieldType.STRING: frozenset({str}),
    FieldType.INTEGER: frozenset({int}),
    FieldType.NUMBER: frozenset({int, float}),
    FieldType.BOOLEAN: frozenset({bool}),
    FieldType.STRING_LIST: frozenset(),
    FieldType.OBJECT: frozenset({dict}),
}
_ACCEPTED_TYPES: Final[Mapping[FieldType, tuple[type, ...]]] = {
    FieldType.STRING: (str,),
    FieldType.INTEGER: (int,),
    FieldType.NUMBER: _NUMBER_TYPES,
    FieldType.BOOLEAN: (bool,),
    FieldType.STRING_LIST: (list, tuple),
    FieldType.OBJECT: (Mapping,),
}


@dataclass(frozen=True, slots=True)
class _Plan:
    """An event's checks, precomputed so a valid field costs one dict lookup and one set lookup."""

    plain: Mapping[str, frozenset[type]]
    """Fields without allowed values: the exact types accepted without further thought."""
    enumerated: Mapping[str, frozenset[Any]]
    """String fields with allowed values: those values."""
    required: frozenset[str]


def _plan(spec: EventSpec) -> _Plan:
    return _Plan(
        plain={f.name: _EXACT_TYPES[f.type] for f in spec.fields if f.allowed is None},
        enumerated={f.name: frozenset(f.allowed) for f in spec.fields if f.allowed is not None},
        required=spec.required_names,
    )


_PLANS: Final[Mapping[str, _Plan]] = {name: _plan(spec) for name, spec in CATALOGUE.items()}


def _value_problem(spec: FieldSpec, value: Any) -> str | None:
    if not isinstance(value, _ACCEPTED_TYPES[spec.type]) or (
        isinstance(value, bool) and spec.type is not FieldType.BOOLEAN
    ):
        return f"expected {spec.type.value}, got {_type_name(value)}"
    if isinstance(value, list | tuple) and spec.type is FieldType.STRING_LIST:
        for item in value:
            if not isinstance(item, str):
                return f"expected a list of strings, found {_type_name(item)}"
    if spec.allowed is not None and value not in spec.allowed:
        allowed = ", ".join(str(a) for a in spec.allowed)
        return f"{short_repr(value)} is not allowed (allowed: {allowed})"
    return None


def _bound_value(context: Mapping[str, Any] | None, name: str) -> Any:
    value = None if context is None else context.get(name)
    if value is None:
        value = structlog.contextvars.get_contextvars().get(name)
    return value


def check_fields(
    spec: EventSpec,
    fields: Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
) -> list[Violation]:
    """Problems of `fields` for `spec`.

    `exc_info` is the exception to log, not a field. A required field the call leaves out may come
    from the logger's bound `context` or from structlog's context variables (`bound_contextvars`).
    """
    plan = _PLANS[spec.name]
    plain, enumerated = plan.plain, plan.enumerated
    problems: list[Violation] = []
    for name, value in fields.items():
        exact = plain.get(name)
        if exact is not None:
            if type(value) in exact:
                continue
        else:
            allowed = enumerated.get(name)
            if allowed is not None and type(value) is str and value in allowed:
                continue
        field_spec = spec.field(name)
        if field_spec is None:
            if name != "exc_info":
                problems.append(Violation(name, "unknown field", _unknown_hint(spec, name)))
            continue
        if value is None:
            if field_spec.required:
                problems.append(Violation(name, "required field is None"))
            continue
        problem = _value_problem(field_spec, value)
        if problem is not None:
            problems.append(Violation(name, problem))
    if not fields.keys() >= plan.required:
        for name in sorted(plan.required - fields.keys()):
            value = _bound_value(context, name)
            field_spec = spec.field(name)
            assert field_spec is not None
            if value is None:
                problems.append(Violation(name, "missing required field"))
                continue
            problem = _value_problem(field_spec, value)
            if problem is not None:
                problems.append(Violation(name, f"bound value: {problem}"))
    return problems


def _unknown_hint(spec: EventSpec, name: str) -> str:
    close = difflib.get_close_matches(name, list(spec.field_names), n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"{spec.name} fields are: {', '.join(spec.field_names)}"


def unknown_event(event_type: object) -> Violation:
    name = event_type if isinstance(event_type, str) else short_repr(event_type)
    close = difflib.get_close_matches(name, list(CATALOGUE), n=1)
    hint = f"did you mean {close[0]!r}?" if close else "add it to paylog/src/paylog/catalogue.py or use log.info()"
    return Violation(None, f"unknown event type {short_repr(event_type)}", hint)
