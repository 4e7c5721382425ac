"""What each step of the emulator changed in a log: the record before and after, compared field by field.

Only `Emulator.process_traced` pays for this: it runs the very steps `process` runs, each wrapped in two
snapshots, so a trace cannot disagree with what the emulator does.

A change is keyed by the field as Datadog search names it: a reserved attribute (`message`, `status`,
`service`, `host`, `source`, `trace_id`), `tags`, or `@` and an attribute path (`@http.status_code`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from logmon.logrecord import LogRecord, is_mapping

Predicate = Callable[[LogRecord], bool]
Step = Callable[[LogRecord], None]
Snapshot = dict[str, Any]

RESERVED_FIELDS = ("message", "status", "service", "host", "source", "trace_id")


@dataclass(frozen=True, slots=True)
class StepLabel:
    kind: Literal["preprocessing", "pipeline", "scanner"]
    pipeline: str | None
    """The pipeline's slug (None for preprocessing and the scanner)."""
    processor: int | str | None
    """The processor's position in its pipeline (1 for the first), or the scanner rule's slug."""
    type: str | None
    name: str | None


PREPROCESSING = StepLabel("preprocessing", None, None, None, None)


@dataclass(frozen=True, slots=True)
class TraceEntry:
    label: StepLabel
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Field → `{"before": value, "after": value}`; None stands for absent."""

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.label.kind,
            "pipeline": self.label.pipeline,
            "processor": self.label.processor,
            "type": self.label.type,
            "name": self.label.name,
            "changes": self.changes,
        }


def _flatten(node: Any, prefix: str, into: Snapshot) -> None:
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if is_mapping(value) and value:
            _flatten(value, path, into)
        else:
            into["@" + path] = copy.deepcopy(value)


def snapshot(record: LogRecord) -> Snapshot:
    """Every field of the record as a flat mapping, copied so later steps cannot change it."""
    flat: Snapshot = {name: getattr(record, name) or None for name in RESERVED_FIELDS}
    flat["tags"] = list(record.tags)
    _flatten(record.attributes, "", flat)
    return flat


def raw_snapshot(raw: MutableMapping[str, Any]) -> Snapshot:
    """The raw JSON as attributes only: what preprocessing starts from."""
    flat: Snapshot = {"tags": []}
    _flatten(raw, "", flat)
    return flat


def difference(before: Snapshot, after: Snapshot) -> dict[str, dict[str, Any]]:
    changes = {}
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if old != new or type(old) is not type(new):
            changes[key] = {"before": old, "after": new}
    return changes


def traced(
    raw: MutableMapping[str, Any],
    preprocess: Callable[[MutableMapping[str, Any]], LogRecord],
    stages: Sequence[tuple[Predicate, Sequence[tuple[StepLabel, Step]]]],
) -> tuple[LogRecord, list[TraceEntry]]:
    """Run preprocessing and the stages as the emulator does, recording each step's changes."""
    entries = []
    before = raw_snapshot(raw)
    record = preprocess(raw)
    after = snapshot(record)
    if changes := difference(before, after):
        entries.append(TraceEntry(PREPROCESSING, changes))
    for matches, steps in stages:
        if not matches(record):
            continue
        for label, step in steps:
            before = after
            step(record)
            after = snapshot(record)
            if changes := difference(before, after):
                entries.append(TraceEntry(label, changes))
    return record, entries
