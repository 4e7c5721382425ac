"""The pipeline processors our rules use, compiled once into steps that edit a LogRecord in place."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any, Final

from logmon.emulator.grok.step import grok_step
from logmon.emulator.preprocess import map_status, parse_date
from logmon.logrecord import MISSING, LogRecord, get_parts, get_path, pop_path, set_path
from logmon.rules import model

Step = Callable[[LogRecord], None]
Predicate = Callable[[LogRecord], bool]
CompileFilter = Callable[[str], Predicate]


class UnsupportedExpression(ValueError):
    """An arithmetic expression outside what Datadog's arithmetic processor accepts."""


def compile_processor(processor: model.Processor, compile_filter: CompileFilter) -> Step | None:
    """One processor as a step; None when the processor is disabled."""
    if not processor.enabled:
        return None
    if isinstance(processor, model.AttributeRemapper):
        return _attribute_remapper(processor)
    if isinstance(processor, model.StatusRemapper):
        return _reserved_remapper(processor.sources, _set_status)
    if isinstance(processor, model.ServiceRemapper):
        return _reserved_remapper(processor.sources, _set_service)
    if isinstance(processor, model.DateRemapper):
        return _reserved_remapper(processor.sources, _set_date)
    if isinstance(processor, model.MessageRemapper):
        return _reserved_remapper(processor.sources, _set_message)
    if isinstance(processor, model.TraceIdRemapper):
        return _reserved_remapper(processor.sources, _set_trace_id)
    if isinstance(processor, model.CategoryProcessor):
        return _category(processor, compile_filter)
    if isinstance(processor, model.LookupProcessor):
        return _lookup(processor)
    if isinstance(processor, model.ArithmeticProcessor):
        return _arithmetic(processor)
    if isinstance(processor, model.GrokParser):
        return grok_step(processor)
    from logmon.emulator.enrichers import compile_enricher  # it builds on this module's helpers

    return compile_enricher(processor, compile_filter, compile_processor)


Getter = Callable[[dict[str, Any]], Any]


def getter(path: str) -> Getter:
    """A reader for one attribute path, with the path split once rather than on every log."""
    if "." not in path:
        return lambda attributes: attributes.get(path, MISSING)
    parts = tuple(path.split("."))
    return lambda attributes: get_parts(attributes, parts)


def _first_present(record: LogRecord, sources: Sequence[tuple[str, Getter]]) -> tuple[str, Any]:
    attributes = record.attributes
    for source, read in sources:
        value = read(attributes)
        if value is not MISSING:
            return source, value
    return "", MISSING


def _set_status(record: LogRecord, value: Any) -> None:
    record.status = map_status(value)


def _set_service(record: LogRecord, value: Any) -> None:
    record.service = str(value)


def _set_date(record: LogRecord, value: Any) -> None:
    parsed = parse_date(value)
    if parsed is not None:
        record.timestamp = parsed


def _set_message(record: LogRecord, value: Any) -> None:
    record.message = value if isinstance(value, str) else str(value)


def _set_trace_id(record: LogRecord, value: Any) -> None:
    record.trace_id = str(value)


def _reserved_remapper(sources: Sequence[str], assign: Callable[[LogRecord, Any], None]) -> Step:
    """Reserved-attribute remappers read the first present source and keep it as an attribute."""
    paths = tuple((source, getter(source)) for source in sources)

    def step(record: LogRecord) -> None:
        _, value = _first_present(record, paths)
        if value is not MISSING and value is not None:
            assign(record, value)

    return step


def _convert(value: Any, target_format: str) -> Any:
    if target_format == "string":
        return value if isinstance(value, str) else str(value)
    if target_format in ("integer", "double"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return value
        if target_format == "integer" and math.isfinite(number):
            return int(number)
        return number
    return value


def _tag_values(record: LogRecord, key: str) -> list[str]:
    prefix = key.lower() + ":"
    return [tag[len(prefix) :] for tag in record.tags if tag.startswith(prefix)]


def _attribute_remapper(processor: model.AttributeRemapper) -> Step:
    simple = _simple_move(processor)
    if simple is not None:
        return simple
    sources = tuple(processor.sources)
    readers = tuple((source, getter(source)) for source in sources)
    read_target = getter(processor.target)
    target = processor.target
    from_tag = processor.source_type == "tag"
    to_tag = processor.target_type == "tag"
    target_format = processor.target_format
    preserve, override = processor.preserve_source, processor.override_on_conflict

    def step(record: LogRecord) -> None:
        if from_tag:
            found = next(((s, v) for s in sources for v in _tag_values(record, s)[:1]), ("", MISSING))
        else:
            found = _first_present(record, readers)
        source, value = found
        if value is MISSING:
            return
        value = _convert(value, target_format)
        same_place = source == target and from_tag == to_tag
        if to_tag:
            exists = not same_place and bool(_tag_values(record, target))
        else:
            exists = not same_place and read_target(record.attributes) is not MISSING
        if exists and not override:
            return
        # The source goes first: a target nested under it (`logger` → `logger.name`) must survive.
        if not preserve and not same_place:
            if from_tag:
                record.tags = [t for t in record.tags if not t.startswith(source.lower() + ":")]
            else:
                pop_path(record.attributes, source)
        if to_tag:
            record.tags = [t for t in record.tags if not t.startswith(target.lower() + ":")]
            record.tags.append(f"{target}:{value}".lower())
        else:
            set_path(record.attributes, target, value)

    return step


def _simple_move(processor: model.AttributeRemapper) -> Step | None:
    """The common remapper — one top-level attribute moved to another attribute — as a handful of dict
    operations; it does what the general step does for that case, with the per-log work inlined."""
    if (
        len(processor.sources) != 1
        or "." in processor.sources[0]
        or processor.source_type != "attribute"
        or processor.target_type != "attribute"
        or processor.sources[0] == processor.target
    ):
        return None
    source, target, target_format = processor.sources[0], processor.target, processor.target_format
    preserve, override = processor.preserve_source, processor.override_on_conflict
    target_parts = tuple(target.split("."))
    nested_under_source = target_parts[0] == source

    def step(record: LogRecord) -> None:
        attributes = record.attributes
        value = attributes.get(source, MISSING)
        if value is MISSING:
            return
        if target_format != "auto":
            value = _convert(value, target_format)
        if not override and not nested_under_source and get_parts(attributes, target_parts) is not MISSING:
            return
        if not preserve:
            del attributes[source]
        set_path(attributes, target, value)

    return step


def _category(processor: model.CategoryProcessor, compile_filter: CompileFilter) -> Step:
    categories = [(category.name, compile_filter(category.filter)) for category in processor.categories]
    target = processor.target

    def step(record: LogRecord) -> None:
        for name, matches in categories:
            if matches(record):
                set_path(record.attributes, target, name)
                return

    return step


def _lookup(processor: model.LookupProcessor) -> Step:
    table = dict(processor.lookup_table)
    source, target, default = processor.source, processor.target, processor.default_lookup

    def step(record: LogRecord) -> None:
        value = get_path(record.attributes, source)
        if value is MISSING:
            return
        mapped = table.get(str(value), default)
        if mapped is not None:
            set_path(record.attributes, target, mapped)

    return step


_OPERATORS: Final[dict[type[ast.AST], Callable[[Any, Any], Any]]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
}
_FUNCTIONS: Final[dict[str, Callable[..., Any]]] = {
    "abs": abs,
    "ceil": math.ceil,
    "floor": math.floor,
    "round": round,
    "max": max,
    "min": min,
}


def parse_expression(expression: str) -> tuple[Callable[[Callable[[str], Any]], Any], list[str]]:
    """An arithmetic expression as an evaluator over attribute values, and the attributes it reads."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise UnsupportedExpression(f"not an arithmetic expression: {error.msg}") from None
    names: list[str] = []

    def build(node: ast.AST) -> Callable[[Callable[[str], Any]], Any]:
        if isinstance(node, ast.Expression):
            return build(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            constant = node.value
            return lambda _: constant
        if isinstance(node, ast.Name | ast.Attribute):
            path = ast.unparse(node)
            names.append(path)
            return lambda read: read(path)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            apply, left, right = _OPERATORS[type(node.op)], build(node.left), build(node.right)
            return lambda read: apply(left(read), right(read))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = build(node.operand)
            return lambda read: -inner(read)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
            function, arguments = _FUNCTIONS[node.func.id], [build(a) for a in node.args]
            return lambda read: function(*(argument(read) for argument in arguments))
        raise UnsupportedExpression(f"unsupported element `{ast.unparse(node)}`")

    return build(tree), names


def _arithmetic(processor: model.ArithmeticProcessor) -> Step:
    evaluate, _ = parse_expression(processor.expression)
    target, replace_missing = processor.target, processor.is_replace_missing

    class _Skip(Exception):
        pass

    def step(record: LogRecord) -> None:
        def read(path: str) -> Any:
            value = get_path(record.attributes, path)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
            if replace_missing:
                return 0
            raise _Skip

        try:
            result = evaluate(read)
        except (_Skip, ZeroDivisionError, OverflowError, TypeError, ValueError):
            return
        set_path(record.attributes, target, result)

    return step
