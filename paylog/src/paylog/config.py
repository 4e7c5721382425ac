"""`configure()` and `get_logger()`: the two calls a service makes.

`configure()` is idempotent: calling it again with the same resolved settings changes nothing, and
with different settings replaces the configuration (loggers already used keep the old one, as with any
structlog `cache_logger_on_first_use` setup, so configure at start-up). `get_logger()` configures from
the environment if nothing has been configured yet.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import IO, Any, BinaryIO, Final, cast

import structlog

from paylog.events import PaylogLogger, make_logger_class
from paylog.processors import build_processors
from paylog.sampling import SAMPLER
from paylog.schema import VIOLATIONS
from paylog.settings import Settings, resolve_settings

_HOT_METHODS: Final = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "msg", "log", "event"}
)


class _State:
    settings: Settings | None = None
    wrapper_class: type[Any] | None = None


class _TextSink:
    """Lets a text stream without a binary buffer (io.StringIO) receive the encoded lines."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, data: bytes) -> int:
        return self._stream.write(data.decode("utf-8", "replace"))

    def flush(self) -> None:
        self._stream.flush()


def binary_sink(stream: IO[Any]) -> BinaryIO:
    """A binary file object writing to `stream`, which may be binary or text."""
    if hasattr(stream, "encoding"):  # text streams have an encoding, binary ones do not
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            return cast(BinaryIO, buffer)
        return cast(BinaryIO, _TextSink(cast(IO[str], stream)))
    return cast(BinaryIO, stream)


def is_configured() -> bool:
    """Whether structlog is currently configured by `paylog.configure()`."""
    return (
        _State.wrapper_class is not None
        and structlog.is_configured()
        and structlog.get_config()["wrapper_class"] is _State.wrapper_class
    )


def current_settings() -> Settings | None:
    return _State.settings if is_configured() else None


def configure(
    *,
    service: str | None = None,
    env: str | None = None,
    version: str | None = None,
    cluster: str | None = None,
    strict: bool | None = None,
    min_level: str | None = None,
    log_format: str | None = None,
    sample_rate: float | None = None,
    email_redaction: str | None = None,
    anonymize_ip: bool | None = None,
    max_string_length: int | None = None,
    extra_sensitive_keys: frozenset[str] | set[str] | tuple[str, ...] | None = None,
    stream: IO[Any] | None = None,
    clock: Callable[[], datetime] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Configure structlog for this service; see `paylog.settings` for where each value comes from."""
    settings = resolve_settings(
        service=service,
        env=env,
        version=version,
        cluster=cluster,
        strict=strict,
        min_level=min_level,
        log_format=log_format,
        sample_rate=sample_rate,
        email_redaction=email_redaction,
        anonymize_ip=anonymize_ip,
        max_string_length=max_string_length,
        extra_sensitive_keys=extra_sensitive_keys,
        stream=stream,
        clock=clock,
        environ=environ,
    )
    if settings == _State.settings and is_configured():
        return settings
    assert settings.stream is not None  # resolve_settings always picks one
    wrapper_class = make_logger_class(settings, SAMPLER)
    structlog.configure(
        processors=build_processors(settings),
        wrapper_class=wrapper_class,
        logger_factory=structlog.BytesLoggerFactory(binary_sink(settings.stream)),
        context_class=dict,
        cache_logger_on_first_use=True,
    )
    SAMPLER.set_rate(settings.sample_rate)
    _State.settings, _State.wrapper_class = settings, wrapper_class
    return settings


def reset() -> None:
    """Forget the configuration and the sampling and violation counters (for tests)."""
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    SAMPLER.reset()
    VIOLATIONS.lines = 0
    _State.settings, _State.wrapper_class = None, None


class _LoggerProxy:
    """A logger that assembles itself from the configuration in force at its first use.

    This lets modules call `get_logger(__name__)` at import time, before the service configures
    logging. structlog's own lazy proxy does the same but resolves every `log.info` through
    `__getattr__` even after caching, which costs more than a whole filtered-out call; this one keeps
    the assembled logger's logging methods on itself after the first call.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: Any = None

    def __getattr__(self, attribute: str) -> Any:
        logger = self._logger
        if logger is None:
            logger = self._logger = structlog.get_logger(self._name).bind()
        value = getattr(logger, attribute)
        if attribute in _HOT_METHODS:
            self.__dict__[attribute] = value
        return value

    def __repr__(self) -> str:
        return f"<paylog logger {self._name!r}>"


def get_logger(name: str | None = None) -> PaylogLogger:
    """A logger named `name` (default: the calling module's `__name__`)."""
    if not is_configured():
        configure()
    if name is None:
        name = str(sys._getframe(1).f_globals.get("__name__", "app"))
    return cast(PaylogLogger, _LoggerProxy(name))
