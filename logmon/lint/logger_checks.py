"""The logger's catalogue and the pipelines' inputs."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from logmon.diagnostics import Finding, Location, Severity
from logmon.lint.context import LintContext
from logmon.lint.grok_checks import written_attributes
from logmon.lint.registry import Check, check
from logmon.logrecord import MISSING, get_path
from logmon.rules.model import Processor

RESERVED_KEYS = frozenset({"status", "level", "severity", "host", "service", "message", "timestamp", "source", "date"})
"""Keys Datadog reads as reserved attributes (status, host, service, message, date, source)."""


def _catalogue_location(event: str, field_name: str) -> Location:
    """Where the catalogue declares an event's field: inside the event's own declaration when the field is
    written there, else where the shared field is defined (`_req("name", ...)` / `_opt("name", ...)`)."""
    from paylog import catalogue as module

    source = inspect.getsourcefile(module)
    if source is None:
        return Location("paylog/src/paylog/catalogue.py", 1, 1)
    path = Path(source)
    display = _display(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return Location(display, 1, 1)
    quoted = f'"{field_name}"'

    def declares(number: int) -> bool:
        line = lines[number].strip()
        previous = lines[number - 1].strip() if number else ""
        if any(f"{call}({quoted}" in line for call in ("_req", "_opt", "FieldSpec")):
            return True
        return line.startswith(quoted) and previous.endswith(("_req(", "_opt(", "FieldSpec("))

    start = next((n for n, line in enumerate(lines) if line.strip() == f'"{event}",'), None)
    if start is not None:
        end = next((n for n in range(start + 1, len(lines)) if "EventSpec(" in lines[n]), len(lines))
        for number in range(start, end):
            if declares(number):
                return Location(display, number + 1, lines[number].find(quoted) + 1)
    for number in range(len(lines)):
        if declares(number):
            return Location(display, number + 1, lines[number].find(quoted) + 1)
    return Location(display, 1, 1)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@check("logger/reserved-key", Severity.ERROR, "no catalogue field uses a key Datadog reserves")
def reserved_key(context: LintContext) -> Iterator[Finding]:
    for name, spec in context.catalogue.items():
        for field_spec in spec.fields:
            if field_spec.name.lower() in RESERVED_KEYS:
                yield reserved_key.finding(
                    _catalogue_location(name, field_spec.name),
                    f"event '{name}' field '{field_spec.name}' collides with Datadog's reserved attribute; "
                    f"Datadog would read it as the log's {field_spec.name} (a payment status 'failed' becomes an "
                    f"EMERGENCY) — rename it, e.g. '{name.split('_')[0]}_{field_spec.name}'",
                    field_spec.name,
                )


@check("pipeline/unused-source", Severity.WARNING, "remappers read attributes the logger writes")
def unused_source(context: LintContext) -> Iterator[Finding]:
    documents = [sample.raw for sample in context.samples]
    for slug, pipeline in context.rules.pipelines.items():
        written: set[str] = set()
        """Attributes earlier processors of this pipeline write (a grok parser's, from its samples)."""
        for processor, _ in pipeline.all_processors():
            sources = getattr(processor, "sources", None)
            if sources is not None and getattr(processor, "source_type", "attribute") != "tag":
                yield from _unused(unused_source, slug, processor, sources, documents, written)
            written |= written_attributes(processor)


def _unused(
    registered: Check,
    slug: str,
    processor: Processor,
    sources: list[str],
    documents: list[dict[str, Any]],
    written: set[str],
) -> Iterator[Finding]:
    for position, source in enumerate(sources):
        if source in written or any(
            document.get(source, MISSING) is not MISSING or get_path(document, source) is not MISSING
            for document in documents
        ):
            continue
        yield registered.finding(
            processor.item_where("sources", position),
            f"pipeline '{slug}' {processor.type} '{processor.name or processor.type}' reads '{source}', "
            "which no catalogued event writes",
            source,
        )


@check("pipeline/expression", Severity.ERROR, "arithmetic processor expressions are ones Datadog can compute")
def expression(context: LintContext) -> Iterator[Finding]:
    from logmon.emulator.processors import UnsupportedExpression, parse_expression
    from logmon.rules.model import ArithmeticProcessor

    for slug, pipeline in context.rules.pipelines.items():
        for processor, _ in pipeline.all_processors():
            if not isinstance(processor, ArithmeticProcessor):
                continue
            try:
                parse_expression(processor.expression)
            except UnsupportedExpression as problem:
                yield expression.finding(
                    processor.where("expression"),
                    f"pipeline '{slug}' arithmetic processor '{processor.name or processor.target}': {problem}; "
                    "use attributes, numbers, + - * / %, parentheses and abs/ceil/floor/round/max/min",
                    processor.expression,
                )
