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
from typing import Any, ClassVar, Final, Protocol, cast

import structlog
from structlog import BoundLoggerBase, DropEvent
from structlog.typing import FilteringBoundLogger, WrappedLogger

from paylog.catalogue import CATALOGUE, LEVEL_NUMBERS
from paylog.processors import FallbackLine, reserved_key_violation
from paylog.redaction import preview, safe_str
from paylog.sampling import Sampler
from paylog.schema import VIOLATIONS, EventSchemaError, OwnViolations, Violation, check_fields, unknown_event
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


def _interpolate(event: object, args: tuple[Any, ...]) -> object:
    """`event % args`, as structlog does for positional arguments."""
    if len(args) == 1 and isinstance(args[0], dict) and args[0]:
        return cast(str, event) % args[0]
    return cast(str, event) % args


class EventMethods(BoundLoggerBase):
    """Mixed in front of structlog's `make_filtering_bound_logger` class by `make_logger_class`.

    Every logging method takes `self` and the message positionally only, so any keyword is a field:
    `log.info("x", event=..., method_name=..., self=...)` never collides with a parameter.
    """

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
            line = self._assemble(fields, spec.message, problems)
            line["event_type"] = event_type
            self._run(level, line)
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
        line = self._assemble(fields, spec.message, (), event_type)
        line["event_type"] = event_type
        self._run(level, line)

    def _unknown_event(self, event_type: object, fields: dict[str, Any]) -> None:
        name = safe_str(event_type)
        line = self._assemble(fields, name, [unknown_event(event_type)])
        line["event_type"] = name
        self._run("info", line)

    def _assemble(
        self, fields: dict[str, Any], message: object, problems: Any, subject: str | None = None
    ) -> dict[str, Any]:
        """As structlog lays out an event dict: bound context, the call's fields, then the message.

        A caller's own `event` field would be overwritten by the message: strict mode refuses it,
        production moves it to `event_value` and records it, like any reserved key.
        """
        # `fields` is always the call's own `**kwargs` dict (or a copy made here), so it can be the line.
        line = {**self._context, **fields} if self._context else fields
        if "event" in line or (problems and "schema_violations" in line):
            problems = self._move_aside(line, message, problems, subject)
        if problems:
            line["schema_violations"] = OwnViolations(p.short() for p in problems)
            VIOLATIONS.lines += 1
        line["event"] = message
        return line

    def _move_aside(self, line: dict[str, Any], message: object, problems: Any, subject: str | None) -> list[Any]:
        """Caller data under `event` (and `schema_violations`, when the logger writes its own here)."""
        clashes = [key for key in ("event", "schema_violations") if key in line]
        if self._runtime.strict:
            name = subject or f"log line {preview(message, 80)}"
            raise EventSchemaError(name, [*problems, *(reserved_key_violation(key) for key in clashes)])
        moved = list(problems)
        for key in clashes:
            target = f"{key}_value"
            while target in line:
                target += "_"
            line[target] = line.pop(key)
            moved.append(Violation(key, f"reserved key, moved to {target}"))
        return moved

    def _log(self, method_name: str, event: object, args: tuple[Any, ...], kw: dict[str, Any]) -> None:
        """Every plain level method lands here; levels below the minimum never do."""
        runtime = self._runtime
        try:
            if args:
                event = self._interpolated(event, args)
            claimed = kw.get("event_type")
            if claimed is not None and type(claimed) is str and claimed in _SPECS:
                self._claimed_event(method_name, event, claimed, kw)
                return
            if not runtime.sampler.keep_line(method_name, kw):
                return
            self._run(method_name, self._assemble(kw, "" if event is None else event, ()))
        except EventSchemaError:
            if runtime.strict:
                raise
            self._fallback(method_name, event, RuntimeError("unexpected schema error"))
        except Exception as error:
            if runtime.strict:
                raise
            self._fallback(method_name, event, error)

    def _interpolated(self, event: object, args: tuple[Any, ...]) -> object:
        try:
            return _interpolate(event, args)
        except Exception:
            if self._runtime.strict:
                raise
            return f"{safe_str(event)} {safe_str(args)}"

    def _claimed_event(self, method_name: str, event: object, event_type: str, kw: dict[str, Any]) -> None:
        """A plain line naming a catalogued `event_type` is checked as that event (level included)."""
        spec = _SPECS[event_type]
        fields = {key: value for key, value in kw.items() if key != "event_type"}
        level = _METHOD_LEVEL.get(method_name, method_name)
        level_no = _LEVEL_NO.get(level, _LEVEL_NO["info"])
        if not self._runtime.sampler.keep(level_no, spec.always_keep):
            return
        problems = check_fields(spec, fields, self._context)
        expected = spec.level_for(fields)
        if expected != level:
            problems.append(Violation("level", f"{level}, but {event_type} is {expected} here", "use log.event()"))
        if problems and self._runtime.strict:
            raise EventSchemaError(event_type, problems)
        line = self._assemble(fields, "" if event is None else event, problems, event_type)
        line["event_type"] = event_type
        self._run(method_name, line)

    def _proxy_to_logger(self, method_name: str, event: str | None = None, **event_kw: Any) -> Any:
        self._log(method_name, event, (), event_kw)
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

    def bind(self, /, **new_values: Any) -> Any:
        return self.__class__(self._logger, self._processors, {**self._context, **new_values})

    def new(self, /, **new_values: Any) -> Any:
        return self.__class__(self._logger, self._processors, dict(new_values))


_METHOD_LEVEL: Final = {"warn": "warning", "exception": "error", "fatal": "critical", "msg": "info"}


def _nop(self: Any, /, *args: Any, **kw: Any) -> None:
    return None


async def _anop(self: Any, /, *args: Any, **kw: Any) -> None:
    return None


def _level_methods(min_level: int) -> dict[str, Any]:
    """The level methods of a logger class at `min_level`: positional-only, so no keyword collides."""
    methods: dict[str, Any] = {}
    for name, level_no in LEVEL_NUMBERS.items():
        if level_no < min_level:
            methods[name], methods[f"a{name}"] = _nop, _anop
            continue

        def method(self: Any, event: object = None, /, *args: Any, _name: str = name, **kw: Any) -> None:
            self._log(_name, event, args, kw)

        async def amethod(self: Any, event: object = None, /, *args: Any, _name: str = name, **kw: Any) -> None:
            self._log(_name, event, args, kw)

        methods[name], methods[f"a{name}"] = method, amethod
    if min_level <= LEVEL_NUMBERS["error"]:

        def exception(self: Any, event: object = None, /, *args: Any, **kw: Any) -> None:
            kw.setdefault("exc_info", True)
            self._log("error", event, args, kw)

        async def aexception(self: Any, event: object = None, /, *args: Any, **kw: Any) -> None:
            kw.setdefault("exc_info", True)
            self._log("error", event, args, kw)

        methods["exception"], methods["aexception"] = exception, aexception
    else:
        methods["exception"], methods["aexception"] = _nop, _anop

    def log(self: Any, level: object, event: object = None, /, *args: Any, **kw: Any) -> None:
        name = _LEVEL_NAMES.get(level, "") if type(level) is int else safe_str(level).lower()
        name = _METHOD_LEVEL.get(name, name)
        if name in LEVEL_NUMBERS and LEVEL_NUMBERS[name] >= min_level:
            self._log(name, event, args, kw)

    async def alog(self: Any, level: object, event: object = None, /, *args: Any, **kw: Any) -> None:
        log(self, level, event, *args, **kw)

    methods.update(
        warn=methods["warning"],
        awarn=methods["awarning"],
        fatal=methods["critical"],
        afatal=methods["acritical"],
        msg=methods["info"],
        amsg=methods["ainfo"],
        log=log,
        alog=alog,
    )
    return methods


_LEVEL_NAMES: Final = {number: name for name, number in LEVEL_NUMBERS.items()}


def make_logger_class(settings: Settings, sampler: Sampler) -> type[EventMethods]:
    """The wrapper class for `settings`: structlog's filtering logger at the minimum level, plus events."""
    base = structlog.make_filtering_bound_logger(settings.min_level)
    runtime = LoggerRuntime(
        strict=settings.strict,
        min_level=LEVEL_NUMBERS[settings.min_level],
        sampler=sampler,
        fallback=FallbackLine(settings),
    )
    namespace = {"_runtime": runtime, **_level_methods(runtime.min_level)}
    cls = type(f"Paylog{base.__name__}", (EventMethods, base), namespace)
    return cast(type[EventMethods], cls)
