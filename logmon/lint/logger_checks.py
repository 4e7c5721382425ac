"""The logger's catalogue and the pipelines' inputs."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

from logmon.diagnostics import Finding, Location, Severity
from logmon.lint.context import LintContext
from logmon.lint.registry import check
from logmon.logrecord import MISSING, get_path

RESERVED_KEYS = frozenset({"status", "level", "severity", "host", "service", "message", "timestamp", "source", "date"})
"""Keys Datadog reads as reserved attributes (status, host, service, message, date, source)."""


def _catalogue_location(field_name: str) -> Location:
    """Where the catalogue declares a field: the first line naming it in the catalogue's source file."""
    from paylog import catalogue as module

    source = inspect.getsourcefile(module)
    if source is None:
        return Location("paylog/catalogue.py", 1, 1)
    path = Path(source)
    display = _display(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return Location(display, 1, 1)
    for number, line in enumerate(lines, start=1):
        column = line.find(f'"{field_name}"')
        if column >= 0:
            return Location(display, number, column + 1)
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
                    _catalogue_location(field_spec.name),
                    f"event '{name}' field '{field_spec.name}' collides with Datadog's reserved attribute; "
                    f"Datadog would read it as the log's {field_spec.name} (a payment status 'failed' becomes an "
                    f"EMERGENCY) — rename it, e.g. '{name.split('_')[0]}_{field_spec.name}'",
                    field_spec.name,
                )


@check("pipeline/unused-source", Severity.WARNING, "remappers read attributes the logger writes")
def unused_source(context: LintContext) -> Iterator[Finding]:
    documents = [sample.raw for sample in context.samples]
    for slug, pipeline in context.rules.pipelines.items():
        for processor in pipeline.processors:
            sources = getattr(processor, "sources", None)
            if sources is None or getattr(processor, "source_type", "attribute") == "tag":
                continue
            for position, source in enumerate(sources):
                if any(
                    document.get(source, MISSING) is not MISSING or get_path(document, source) is not MISSING
                    for document in documents
                ):
                    continue
                yield unused_source.finding(
                    processor.item_where("sources", position),
                    f"pipeline '{slug}' {processor.type} '{processor.name or processor.type}' reads '{source}', "
                    "which no catalogued event writes",
                    source,
                )
