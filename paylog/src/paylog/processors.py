"""The processor chain: one definition, used by `configure()` and by `render()`.

Order matters and is chosen so that:
- caller data is checked for reserved keys, exceptions become `error.*`, and then everything the caller
  supplied is redacted;
- the logger's own fields (level, logger, service tags, correlation and trace IDs, timestamp) are added
  after redaction, so they are never scanned or mangled and always win over caller data;
- `event` is renamed to `message` just before rendering.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import time
import traceback
from collections.abc import Callable
from typing import Any, Final

import orjson
import structlog
from structlog.processors import EventRenamer, ExceptionRenderer, JSONRenderer, add_log_level
from structlog.stdlib import add_logger_name
from structlog.typing import EventDict, ExcInfo, Processor, WrappedLogger

from paylog.catalogue import BASE_FIELDS, CATALOGUE, DATADOG_RESERVED_KEYS
from paylog.correlation import CORRELATION_ID, add_correlation_id
from paylog.redaction import Redactor, cut_head, preview, safe_str
from paylog.schema import VIOLATIONS, EventSchemaError, OwnViolations, Violation
from paylog.settings import Settings
from paylog.tracing import add_trace_ids

GUARDED_KEYS: Final = DATADOG_RESERVED_KEYS | {
    "logger",
    "env",
    "version",
    "cluster",
    "error",
    "dd",
    "correlation_id",
    "schema_violations",
    "fields_dropped",
}
"""Keys only the logger writes, besides every `dd.*` and `error.*` key (`GUARDED_PREFIXES`).

Caller data under them is refused (strict) or moved aside with a record (production). `event`, the
message, is guarded where a line is assembled (`paylog.events`).
"""
GUARDED_PREFIXES: Final = ("dd.", "error.")

MAX_LINE_BYTES: Final = 256 * 1024
"""A line is kept below this size. Datadog truncates a log above 1 MB; a quarter of it leaves room."""

_UTC = dt.UTC


def is_guarded(key: str) -> bool:
    """Whether only the logger may write `key`."""
    return key in GUARDED_KEYS or key.startswith(GUARDED_PREFIXES)


def moved_name(key: str) -> str:
    """Where production mode moves caller data found under a guarded key (`error` → `error_message`)."""
    if key == "error":
        return "error_message"
    return f"{key.replace('.', '_')}_value"


def _rename_target(key: str, event_dict: EventDict) -> str:
    target = moved_name(key)
    while target in event_dict:
        target += "_"
    return target


def own_violations(event_dict: EventDict) -> OwnViolations:
    """The line's `schema_violations` written by the logger, created (and counted) on first use."""
    existing = event_dict.get("schema_violations")
    if type(existing) is OwnViolations:
        return existing
    violations = OwnViolations()
    VIOLATIONS.lines += 1
    event_dict["schema_violations"] = violations
    return violations


def reserved_key_violation(key: str) -> Violation:
    return Violation(key, "reserved key", f"only the logger writes it; rename it, e.g. {moved_name(key)}")


class ReservedKeyGuard:
    """Keep caller data out of the keys Datadog and this logger own.

    `error=<exception>` (a common older style) is taken as `exc_info`. Any other clash raises
    `EventSchemaError` in strict mode; in production the value moves to `moved_name(key)` (`error`
    moves to `error_message`, dots become underscores) and a `schema_violations` entry records it.
    The logger's own `schema_violations` (an `OwnViolations`) is the only value allowed under that key.
    """

    def __init__(self, *, strict: bool) -> None:
        self._strict = strict
        self._clean: set[str] = set()

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        clean = self._clean
        if event_dict.keys() <= clean:
            return event_dict
        clashes = []
        for key in event_dict:
            if key in clean:
                continue
            if type(key) is str and not is_guarded(key):
                if len(clean) < 4096:
                    clean.add(key)
                continue
            if key == "schema_violations" and type(event_dict[key]) is OwnViolations:
                continue
            clashes.append(key)
        if "error" in clashes and isinstance(event_dict["error"], BaseException):
            error = event_dict.pop("error")
            event_dict.setdefault("exc_info", error)
            clashes.remove("error")
        if not clashes:
            return event_dict
        if self._strict:
            subject = event_dict.get("event_type")
            raise EventSchemaError(
                subject if isinstance(subject, str) else f"log line {preview(event_dict.get('event'), 80)}",
                [reserved_key_violation(safe_str(key)) for key in clashes],
            )
        moved = [(key, _rename_target(safe_str(key), event_dict)) for key in clashes]
        for key, target in moved:
            event_dict[target] = event_dict.pop(key)
        violations = own_violations(event_dict)
        violations.extend(f"{key}: reserved key, moved to {target}" for key, target in moved)
        return event_dict


def _kind(exc_type: type[BaseException]) -> str:
    module = getattr(exc_type, "__module__", "")
    name = getattr(exc_type, "__qualname__", exc_type.__name__)
    return name if module in ("builtins", "", None) else f"{module}.{name}"


class _ErrorFields(dict[str, str]):
    """Marks the value ExceptionRenderer stored, so a caller's own `exception` field is left alone."""


class ErrorAttributes:
    """`exc_info` (True, an exception or a tuple) → Datadog's `error.kind`, `error.message`, `error.stack`.

    structlog's ExceptionRenderer resolves `exc_info`; this processor flattens its result into the
    standard attributes. The stack is written whole here; the redactor scans it and then cuts it to its
    end, where the raising frame is (cutting first could split a card number and hide it from the scan).
    """

    def __init__(self) -> None:
        self._renderer = ExceptionRenderer(self._format)

    def _format(self, exc_info: ExcInfo) -> Any:
        exc_type, exc, tb = exc_info
        try:
            stack = "".join(traceback.format_exception(exc_type, exc, tb))
        except Exception:
            stack = f"{_kind(exc_type)}: <traceback could not be formatted>"
        return _ErrorFields({"error.kind": _kind(exc_type), "error.message": safe_str(exc), "error.stack": stack})

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        if "exc_info" not in event_dict:
            return event_dict
        own = event_dict.pop("exception", None)
        self._renderer(logger, method_name, event_dict)
        rendered = event_dict.pop("exception", None)
        if isinstance(rendered, _ErrorFields):
            event_dict.update(rendered)
        if own is not None:
            event_dict["exception"] = own
        return event_dict


class StaticFields:
    """The unified service tags every line carries."""

    def __init__(self, **fields: str) -> None:
        self._fields = fields

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        event_dict.update(self._fields)
        return event_dict


def format_timestamp(moment: dt.datetime) -> str:
    """ISO 8601 in UTC with microseconds and `Z`; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_UTC)
    return moment.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class UtcTimestamper:
    """`timestamp` as `2026-11-29T12:00:00.123456Z` (always six fraction digits).

    structlog's TimeStamper drops the fraction when it is zero and builds a datetime per line; this one
    formats the date part once per second, and takes a clock so `render()` can pin the time.
    """

    __slots__ = ("_clock", "_second")

    def __init__(self, clock: Callable[[], dt.datetime] | None = None) -> None:
        self._clock = clock
        self._second: tuple[int, str] = (-1, "")

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        if self._clock is not None:
            event_dict["timestamp"] = format_timestamp(self._clock())
            return event_dict
        second, nanos = divmod(time.time_ns(), 1_000_000_000)
        cached, prefix = self._second
        if cached != second:
            prefix = dt.datetime.fromtimestamp(second, _UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            self._second = (second, prefix)
        event_dict["timestamp"] = "%s%06dZ" % (prefix, nanos // 1000)  # noqa: UP031  # fastest here
        return event_dict


def _default(value: Any) -> str:
    return safe_str(value)


def _repair(value: Any, depth: int = 0) -> Any:
    """A copy orjson accepts: lone surrogates replaced, keys as strings, huge ints as text."""
    if depth > 64:
        return "[depth limit]"
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else safe_str(value)
    if isinstance(value, dict):
        return {_repair(safe_str(k), depth + 1): _repair(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_repair(v, depth + 1) for v in value]
    return _repair(safe_str(value), depth + 1)


def _dumps(value: Any, default: Callable[[Any], Any]) -> bytes:
    try:
        return orjson.dumps(value, default=default)
    except TypeError:
        return orjson.dumps(_repair(value), default=default)


_OWN_FIELDS: Final = tuple(f.name for f in BASE_FIELDS)


def _bounded(event_dict: dict[str, Any], default: Callable[[Any], Any], size: int) -> bytes:
    """The line with fields dropped until it fits `MAX_LINE_BYTES`, saying what was dropped.

    The logger's own fields come first, then the event's catalogued fields, then the rest in order.
    """
    event_type = event_dict.get("event_type")
    spec = CATALOGUE.get(event_type) if type(event_type) is str else None
    first = [*_OWN_FIELDS, *(spec.field_names if spec is not None else ())]
    order = [key for key in first if key in event_dict]
    order += [key for key in event_dict if key not in set(order)]
    budget = MAX_LINE_BYTES - 4096  # room for the record of what was dropped
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    used = 2
    for key in order:
        cost = len(_dumps({key: event_dict[key]}, default))
        if used + cost <= budget:
            kept[key] = event_dict[key]
            used += cost - 1
        else:
            dropped.append(key)
    names = [cut_head(safe_str(name), 64) for name in dropped[:20]]
    kept["fields_dropped"] = {"count": len(dropped), "names": names}
    violations = OwnViolations(kept.get("schema_violations") or ())
    violations.append(f"line of {size} bytes is over {MAX_LINE_BYTES}: {len(dropped)} fields dropped")
    kept["schema_violations"] = violations
    return _dumps(kept, default)


def dumps_line(event_dict: Any, **kw: Any) -> bytes:
    """orjson (on a repaired copy if it refuses the line), kept below `MAX_LINE_BYTES`."""
    default = kw.get("default", _default)
    line = _dumps(event_dict, default)
    if len(line) > MAX_LINE_BYTES and isinstance(event_dict, dict):
        return _bounded(event_dict, default, len(line))
    return line


def _encode_text(logger: WrappedLogger, method_name: str, text: Any) -> bytes:
    """The console renderer returns text; the output logger takes bytes."""
    return str(text).encode("utf-8", "replace")


def build_processors(settings: Settings) -> list[Processor]:
    """The chain for `settings`; the only place it is defined."""
    json_output = settings.log_format == "json"
    chain: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        ReservedKeyGuard(strict=settings.strict),
    ]
    if json_output:
        # The console renderer prints exc_info itself, with a readable traceback.
        chain.append(ErrorAttributes())
    chain += [
        Redactor(
            email_redaction=settings.email_redaction,
            anonymize_ip=settings.anonymize_ip,
            max_string_length=settings.max_string_length,
            extra_sensitive_keys=settings.extra_sensitive_keys,
        ),
        add_log_level,
        add_logger_name,
        StaticFields(service=settings.service, env=settings.env, version=settings.version, cluster=settings.cluster),
        add_correlation_id,
        add_trace_ids,
        UtcTimestamper(settings.clock),
        EventRenamer("message"),
    ]
    if json_output:
        chain.append(JSONRenderer(serializer=dumps_line, default=_default))
    else:
        colors = bool(getattr(settings.stream, "isatty", lambda: False)())
        chain += [_console_renderer(colors), _encode_text]
    return chain


def _console_renderer(colors: bool) -> structlog.dev.ConsoleRenderer:
    # Local variables in a traceback can hold secrets and personal data, so the console never shows them.
    formatter: structlog.typing.ExceptionRenderer = structlog.dev.plain_traceback
    if importlib.util.find_spec("rich") is not None:
        formatter = structlog.dev.RichTracebackFormatter(
            show_locals=False, color_system="truecolor" if colors else None
        )
    return structlog.dev.ConsoleRenderer(colors=colors, event_key="message", exception_formatter=formatter)


class FallbackLine:
    """The line written when rendering failed in production mode: who, when, and what went wrong."""

    def __init__(self, settings: Settings) -> None:
        self._static = {
            "service": settings.service,
            "env": settings.env,
            "version": settings.version,
            "cluster": settings.cluster,
        }
        self._stamp = UtcTimestamper(settings.clock)
        self._redactor = Redactor(max_string_length=1024)

    def __call__(self, logger: WrappedLogger, method_name: str, event: object, error: BaseException) -> bytes:
        line: dict[str, Any] = {"level": method_name}
        line["message"] = self._redactor(logger, method_name, {"event": safe_str(event)})["event"]
        line["logger"] = safe_str(getattr(logger, "name", None))
        line.update(self._static)
        correlation_id = CORRELATION_ID.get()
        if correlation_id is not None:
            line["correlation_id"] = correlation_id
        self._stamp(logger, method_name, line)
        line["schema_violations"] = [f"line could not be rendered: {safe_str(type(error).__name__)}"]
        return dumps_line(line)
