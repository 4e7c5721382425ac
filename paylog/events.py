"""The bound logger services use: structlog's filtering logger plus `event()` for catalogued events.

`log.event("payment_completion", transaction_id=..., payment_status="failed", ...)` sets `event_type`,
takes the message and the level from the catalogue, checks the fields and writes one line. Plain
`log.info("...", **kw)` keeps working for lines that are not catalogued.

Strict mode raises `EventSchemaError` at the call. Production mode never raises: problems go into
`schema_violations`, and if the chain itself fails a minimal fallback line is written instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, cast

import structlog
from structlog import BoundLoggerBase, DropEvent
from structlog.typing import FilteringBoundLogger, WrappedLogger

from paylog.catalogue import CATALOGUE, LEVEL_NUMBERS
from paylog.processors import FallbackLine
from paylog.redaction import safe_str
from paylog.sampling import Sampler
from paylog.schema import VIOLATIONS, EventSchemaError, check_fields, unknown_event
from paylog.settings import Settings

# Plain dicts: lookups through MappingProxyType cost noticeably more on the per-call path.
_SPECS = dict(CATALOGUE)
_LEVEL_NO = dict(LEVEL_NUMBERS)


class PaylogLogger(FilteringBoundLogger, Protocol):
    """What `paylog.get_logger()` returns: structlog's FilteringBoundLogger plus `event()`."""

    def event(self, event_type: str, /, **fields: Any) -> None: ...

    def bind(self, **new_values: Any) -> PaylogLogger: ...

    def unbind(self, *keys: str) -> PaylogLogger: ...

    def try_unbind(self, *keys: str) -> PaylogLogger: ...

    def new(self, **new_values: Any) -> PaylogLogger: ...


@dataclass(frozen=True, slots=True)
class LoggerRuntime:
    strict: bool
    min_level: int
    sampler: Sampler
    fallback: Callable[[WrappedLogger, str, object, BaseException], bytes]


class EventMethods(BoundLoggerBase):
    """Mixed in front of structlog's `make_filtering_bound_logger` class by `make_logger_class`."""

    _runtime: ClassVar[LoggerRuntime]

    def event(self, event_type: str, /, **fields: Any) -> None:
        """Log a catalogued event; see the module docstring."""
        runtime = self._runtime
        if runtime.strict:
            self._strict_event(event_type, fields)
            return
        try:
            spec = _SPECS.get(event_type) if type(event_type) is str else None
            if spec is None:
                self._unknown_event(event_type, fields)
                return
            level = spec.level_for(fields)
            level_no = _LEVEL_NO[level]
            # Filtering and sampling first: a dropped line should not pay for the checks.
            if level_no < runtime.min_level:
                return
            sampler = runtime.sampler
            if sampler.rate < 1.0 and not sampler.keep(level_no, spec.always_keep):
                return
            problems = check_fields(spec, fields, self._context)
            if problems:
                fields["schema_violations"] = [p.short() for p in problems]
                VIOLATIONS.lines += 1
            # As structlog lays out an event dict: bound context, then the call's fields.
            self._run(level, {**self._context, **fields, "event_type": event_type, "event": spec.message})
        except Exception as error:
            self._fallback("error", event_type, error)

    def _strict_event(self, event_type: str, fields: dict[str, Any]) -> None:
        runtime = self._runtime
        spec = _SPECS.get(event_type) if isinstance(event_type, str) else None
        if spec is None:
            raise EventSchemaError(safe_str(event_type), [unknown_event(event_type)])
        problems = check_fields(spec, fields, self._context)
        if problems:
            raise EventSchemaError(event_type, problems)
        level = spec.level_for(fields)
        level_no = _LEVEL_NO[level]
        if level_no < runtime.min_level or not runtime.sampler.keep(level_no, spec.always_keep):
            return
        self._run(level, {**self._context, **fields, "event_type": event_type, "event": spec.message})

    def _unknown_event(self, event_type: object, fields: dict[str, Any]) -> None:
        fields["schema_violations"] = [unknown_event(event_type).short()]
        VIOLATIONS.lines += 1
        name = safe_str(event_type)
        self._run("info", {**self._context, **fields, "event_type": name, "event": name})

    def _proxy_to_logger(self, method_name: str, event: str | None = None, **event_kw: Any) -> Any:
        # Every plain level method of the filtering logger lands here; levels below the minimum never do.
        if not self._runtime.sampler.keep_line(method_name, event_kw):
            return None
        event_dict = self._context.copy()
        event_dict.update(event_kw)
        event_dict["event"] = "" if event is None else event
        self._run(method_name, event_dict)
        return None

    def _run(self, method_name: str, event_dict: dict[str, Any]) -> None:
        """Run the processor chain and write the result, as structlog's `_proxy_to_logger` does."""
        logger = self._logger
        try:
            line: Any = event_dict
            for processor in self._processors:
                line = processor(logger, method_name, line)
            getattr(logger, method_name)(line)
        except DropEvent:
            return
        except Exception as error:
            if self._runtime.strict:
                raise
            self._fallback(method_name, event_dict.get("event"), error)

    def _fallback(self, method_name: str, event: object, error: BaseException) -> None:
        try:
            self._logger.msg(self._runtime.fallback(self._logger, method_name, event, error))
        except Exception:
            # Production mode promises never to raise into the service, even if the sink is broken.
            return


def make_logger_class(settings: Settings, sampler: Sampler) -> type[EventMethods]:
    """The wrapper class for `settings`: structlog's filtering logger at the minimum level, plus events."""
    base = structlog.make_filtering_bound_logger(settings.min_level)
    runtime = LoggerRuntime(
        strict=settings.strict,
        min_level=LEVEL_NUMBERS[settings.min_level],
        sampler=sampler,
        fallback=FallbackLine(settings),
    )
    cls = type(f"Paylog{base.__name__}", (EventMethods, base), {"_runtime": runtime})
    return cast(type[EventMethods], cls)
