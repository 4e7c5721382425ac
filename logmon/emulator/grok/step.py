"""The grok parser processor as an emulator step: parse the source text, merge what the matching rule extracts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from logmon.emulator.grok.compiler import compile_grok
from logmon.logrecord import LogRecord, get_path
from logmon.rules import model


def merge_attributes(target: dict[str, Any], extracted: Mapping[str, Any]) -> None:
    """Write extracted attributes over the log's: objects merge, anything else replaces."""
    for key, value in extracted.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merge_attributes(current, value)
        else:
            target[key] = value


def grok_step(processor: model.GrokParser) -> Callable[[LogRecord], None]:
    """The step for one grok parser; GrokCompileError when a rule cannot be compiled.

    A text that no rule matches leaves the log unchanged, as does a source that is absent or not a string
    (Datadog parses text only). A date without a year takes the log's own year.
    """
    parser = compile_grok(processor.match_rules, processor.support_rules)
    source = processor.source

    def step(record: LogRecord) -> None:
        text = record.message if source == "message" else get_path(record.attributes, source)
        if not isinstance(text, str):
            return
        year = datetime.fromtimestamp(record.timestamp, UTC).year if record.timestamp is not None else None
        parsed = parser.parse(text, year)
        if parsed is not None:
            merge_attributes(record.attributes, parsed[1])

    return step
