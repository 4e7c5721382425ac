"""Datadog's JSON preprocessing: reserved attributes read from well-known keys, before any pipeline.

| reserved  | JSON keys, first present wins                      |
|-----------|----------------------------------------------------|
| status    | status, severity, level, syslog.severity           |
| service   | service                                            |
| host      | host, hostname                                     |
| message   | message                                            |
| date      | timestamp, date, _timestamp, Timestamp, eventTime, published_date, syslog.timestamp |
| trace_id  | dd.trace_id, contextMap.dd.trace_id                 |
| source    | ddsource (the HTTP intake's field)                 |
| tags      | ddtags: comma-separated `key:value` (the HTTP intake's field), added to the agent's |

`ddsource` and `ddtags` are the intake's own fields, read for the log and not kept as attributes; the
other keys stay searchable as attributes too (docs/decisions.md, "Reserved attributes and dotted keys").

Flat dotted keys (`"dd.trace_id"`, `"error.kind"`) address the same attribute as nested objects do, so
they are folded into nested objects first; every later step walks one shape.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from logmon.logrecord import MISSING, LogRecord, get_path, is_mapping, set_path

STATUS_KEYS: Final = ("status", "severity", "level", "syslog.severity")
SERVICE_KEYS: Final = ("service",)
HOST_KEYS: Final = ("host", "hostname")
MESSAGE_KEYS: Final = ("message",)
DATE_KEYS: Final = (
    "timestamp",
    "date",
    "_timestamp",
    "Timestamp",
    "eventTime",
    "published_date",
    "syslog.timestamp",
)
TRACE_ID_KEYS: Final = ("dd.trace_id", "contextMap.dd.trace_id")
INTAKE_SOURCE_KEY: Final = "ddsource"
INTAKE_TAGS_KEY: Final = "ddtags"

STATUSES: Final = ("emergency", "alert", "critical", "error", "warning", "notice", "info", "debug", "ok")
_SYSLOG_SEVERITIES: Final = ("emergency", "alert", "critical", "error", "warning", "notice", "info", "debug")
_STATUS_CACHE: dict[str, str] = {}


def map_status(value: Any) -> str:
    """Datadog's status for a raw level value: case-insensitive prefixes, or a syslog severity 0–7."""
    if isinstance(value, bool):
        return "info"
    if isinstance(value, int | float):
        number = int(value)
        return _SYSLOG_SEVERITIES[number] if number == value and 0 <= number <= 7 else "info"
    if not isinstance(value, str):
        return "info"
    cached = _STATUS_CACHE.get(value)
    if cached is not None:
        return cached
    status = _status_for_text(value.strip().lower())
    if len(_STATUS_CACHE) < 4096:
        _STATUS_CACHE[value] = status
    return status


def _status_for_text(text: str) -> str:
    if text.isascii() and text.isdigit():  # "²" is a digit to str.isdigit but not to int()
        return map_status(int(text))
    if text.startswith(("emerg", "f")):
        return "emergency"
    if text.startswith("a"):
        return "alert"
    if text.startswith("c"):
        return "critical"
    if text.startswith("err"):
        return "error"
    if text.startswith("w"):
        return "warning"
    if text.startswith("n"):
        return "notice"
    if text.startswith("i"):
        return "info"
    if text.startswith(("d", "t", "v")):
        return "debug"
    if text.startswith(("o", "s")):
        return "ok"
    return "info"


_LAST_DATE: list[Any] = [None, None]
"""The last string parsed and its result: preprocessing and a date remapper read the same value in a row."""


def parse_date(value: Any) -> float | None:
    """Seconds since the epoch from an ISO-8601 string or epoch milliseconds, as Datadog reads dates."""
    if type(value) is str and value == _LAST_DATE[0]:
        result: float | None = _LAST_DATE[1]
        return result
    parsed = _parse_date(value)
    if type(value) is str:
        _LAST_DATE[0], _LAST_DATE[1] = value, parsed
    return parsed


LATEST_DATE = 253402300799.0
"""9999-12-31T23:59:59Z: later (or negative) dates are not dates Datadog would accept."""


def _parse_date(value: Any) -> float | None:
    seconds = _seconds(value)
    if seconds is None or not 0 <= seconds <= LATEST_DATE:
        return None
    return seconds


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) / 1000.0
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC).timestamp()
        return parsed.timestamp()
    return None


def fold_dotted_keys(document: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Turn `{"a.b": 1}` into `{"a": {"b": 1}}`, recursively; a key that would overwrite data stays flat."""
    dotted = []
    for key, value in document.items():
        if "." in key:
            dotted.append(key)
        elif type(value) is dict or (type(value) is not str and is_mapping(value)):
            fold_dotted_keys(value)
    for key in dotted:
        if _free_path(document, key.split(".")):
            value = document.pop(key)
            set_path(document, key, value)
            if is_mapping(value):
                fold_dotted_keys(value)
    return document


def _free_path(document: Mapping[str, Any], parts: list[str]) -> bool:
    node: Any = document
    for part in parts[:-1]:
        node = node.get(part, MISSING)
        if node is MISSING:
            return True
        if not is_mapping(node):
            return False
    return parts[-1] not in node


def _first(attributes: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        if "." in key:
            value = get_path(attributes, key)
        else:
            value = attributes.get(key)
            if value is None:
                continue
        if value is not MISSING and value is not None:
            return value
    return MISSING


def intake_tags(value: Any) -> list[str]:
    """`ddtags` as the intake reads it: comma-separated tags, trimmed and lower-cased, empty ones dropped."""
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, list):
        items = value
    else:
        return []
    return [text.lower() for item in items if isinstance(item, str | int | float) and (text := str(item).strip())]


def _read_intake_fields(record: LogRecord) -> None:
    attributes = record.attributes
    source = attributes.pop(INTAKE_SOURCE_KEY, MISSING)
    if isinstance(source, str | int | float) and not isinstance(source, bool):
        record.source = str(source)
    for tag in intake_tags(attributes.pop(INTAKE_TAGS_KEY, None)):
        if tag not in record.tags:
            record.tags.append(tag)


def preprocess(
    raw: MutableMapping[str, Any],
    *,
    tags: Sequence[str] = (),
    source: str = "",
    host: str = "",
) -> LogRecord:
    """A raw JSON log (consumed: it becomes the record's attributes) as Datadog holds it before pipelines.

    `tags`, `source` and `host` are what the agent attaches; JSON values for host (`host`, `hostname`) and
    the intake's `ddsource` win over the agent's, and `ddtags` adds to its tags.
    """
    attributes = fold_dotted_keys(raw)
    record = LogRecord(attributes=dict(attributes) if not isinstance(attributes, dict) else attributes)
    record.tags = [tag.lower() for tag in tags]
    record.source = source
    if INTAKE_SOURCE_KEY in attributes or INTAKE_TAGS_KEY in attributes:
        _read_intake_fields(record)
    record.host = host
    status = _first(attributes, STATUS_KEYS)
    if status is not MISSING:
        record.status = map_status(status)
    service = _first(attributes, SERVICE_KEYS)
    if service is not MISSING:
        record.service = str(service)
    found_host = _first(attributes, HOST_KEYS)
    if found_host is not MISSING:
        record.host = str(found_host)
    message = attributes.pop("message", MISSING)
    if message is not MISSING and message is not None:
        record.message = message if isinstance(message, str) else str(message)
    date = _first(attributes, DATE_KEYS)
    if date is not MISSING:
        record.timestamp = parse_date(date)
    trace_id = _first(attributes, TRACE_ID_KEYS)
    if trace_id is not MISSING:
        record.trace_id = str(trace_id)
    return record
