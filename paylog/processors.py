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

from paylog.catalogue import DATADOG_RESERVED_KEYS
from paylog.correlation import CORRELATION_ID, add_correlation_id
from paylog.redaction import Redactor, safe_str
from paylog.schema import VIOLATIONS, EventSchemaError, Violation
from paylog.settings import Settings
from paylog.tracing import add_trace_ids

GUARDED_KEYS: Final = DATADOG_RESERVED_KEYS | {
    "logger",
    "env",
    "version",
    "cluster",
    "error",
    "dd.trace_id",
    "dd.span_id",
    "error.kind",
    "error.message",
    "error.stack",
}
"""Keys only the logger writes. Caller data under them is renamed (production) or rejected (strict)."""

_UTC = dt.UTC


def _violations(event_dict: EventDict) -> list[str]:
    existing = event_dict.get("schema_violations")
    if existing is None:
        return []
    if isinstance(existing, list):
        return existing
    return [safe_str(existing)]


def _rename_target(key: str, event_dict: EventDict) -> str:
    preferred = "error_message" if key == "error" else f"{key}_value"
    return preferred if preferred not in event_dict else f"{key}_value_"


class ReservedKeyGuard:
    """Keep caller data out of the keys Datadog and this logger own.

    `error=<exception>` (a common older style) is taken as `exc_info`. Any other clash raises
    `EventSchemaError` in strict mode; in production the value moves to `<key>_value` (`error` moves to
    `error_message`) and a `schema_violations` entry records it.
    """

    def __init__(self, *, strict: bool) -> None:
        self._strict = strict

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        if GUARDED_KEYS.isdisjoint(event_dict):
            return event_dict
        clashes = [key for key in event_dict if key in GUARDED_KEYS]
        if "error" in clashes and isinstance(event_dict["error"], BaseException):
            error = event_dict.pop("error")
            event_dict.setdefault("exc_info", error)
            clashes.remove("error")
        if not clashes:
            return event_dict
        if self._strict:
            subject = event_dict.get("event_type")
            raise EventSchemaError(
                subject if isinstance(subject, str) else f"log line {safe_str(event_dict.get('event'))!r}",
                [
                    Violation(key, "reserved key", f"only the logger writes it; rename it, e.g. {key}_value")
                    for key in clashes
                ],
            )
        violations = _violations(event_dict)
        if not violations:
            VIOLATIONS.lines += 1  # an event with catalogue problems was counted already
        for key in clashes:
            target = _rename_target(key, event_dict)
            event_dict[target] = event_dict.pop(key)
            violations.append(f"{key}: reserved key, moved to {target}")
        event_dict["schema_violations"] = violations
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
    standard attributes. Long stacks keep their end, where the raising frame is.
    """

    def __init__(self, *, max_stack: int) -> None:
        self._max_stack = max_stack
        self._renderer = ExceptionRenderer(self._format)

    def _format(self, exc_info: ExcInfo) -> Any:
        exc_type, exc, tb = exc_info
        try:
            stack = "".join(traceback.format_exception(exc_type, exc, tb))
        except Exception:
            stack = f"{_kind(exc_type)}: <traceback could not be formatted>"
        if len(stack) > self._max_stack:
            dropped = len(stack) - self._max_stack
            stack = f"[{dropped} chars truncated]…{stack[-self._max_stack :]}"
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


def dumps_line(event_dict: Any, **kw: Any) -> bytes:
    """orjson, and if it refuses the line (lone surrogates, ...), orjson on a repaired copy."""
    default = kw.get("default", _default)
    try:
        return orjson.dumps(event_dict, default=default)
    except TypeError:
        return orjson.dumps(_repair(event_dict), default=default)


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
        chain.append(ErrorAttributes(max_stack=settings.max_string_length - 64))
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
        line["schema_violations"] = [f"line could not be rendered: {type(error).__name__}"]
        return dumps_line(line)
