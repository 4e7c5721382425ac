"""Render a log line exactly as a configured service would write it, for the offline rule checker.

`render()` builds its own logger from the same `build_processors()` and `make_logger_class()` that
`configure()` uses, writes into memory with sampling off, and returns the decoded bytes. It runs in an
empty context (no bound context variables, no active trace), so its result depends on its arguments
only, and it never touches the global structlog configuration.
"""

from __future__ import annotations

import contextvars
import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
import structlog

from paylog.catalogue import LEVELS
from paylog.correlation import CORRELATION_ID
from paylog.events import make_logger_class
from paylog.processors import build_processors
from paylog.sampling import Sampler
from paylog.settings import Settings


def render(
    event_type: str | None,
    fields: Mapping[str, Any] | None = None,
    *,
    message: str | None = None,
    level: str | None = None,
    exc_info: BaseException | None = None,
    timestamp: datetime | None = None,
    correlation_id: str | None = None,
    service: str = "render",
    env: str = "test",
    version: str = "0.0.0",
    cluster: str = "local",
    strict: bool = True,
    logger_name: str = "paylog.render",
    email_redaction: str = "mask",
    anonymize_ip: bool = False,
) -> dict[str, Any]:
    """The JSON object the logger writes for this call.

    With `event_type`, the line is `log.event(event_type, **fields)`; with None it is a plain line
    `log.<level>(message, **fields)`, which then needs both `message` and `level`.
    """
    if event_type is None:
        if message is None or level not in LEVELS:
            raise ValueError(
                f"a plain line needs message= and level= (one of {', '.join(LEVELS)}); "
                f"got message={message!r}, level={level!r}"
            )
    elif message is not None or level is not None:
        raise ValueError(f"event {event_type!r} takes its message and level from the catalogue; drop message=/level=")
    settings = Settings(
        service=service,
        env=env,
        version=version,
        cluster=cluster,
        strict=strict,
        min_level="debug",
        log_format="json",
        sample_rate=1.0,
        email_redaction=email_redaction,  # type: ignore[arg-type]  # checked by Settings
        anonymize_ip=anonymize_ip,
        clock=None if timestamp is None else (lambda: timestamp),
    )
    sink = io.BytesIO()
    wrapper_class = make_logger_class(settings, Sampler(1.0))
    log: Any = wrapper_class(structlog.BytesLogger(sink, name=logger_name), build_processors(settings), {})
    kwargs = dict(fields or {})
    if exc_info is not None:
        kwargs["exc_info"] = exc_info

    def write() -> None:
        if correlation_id is not None:
            CORRELATION_ID.set(correlation_id)
        if event_type is None:
            getattr(log, str(level))(message, **kwargs)
        else:
            log.event(event_type, **kwargs)

    contextvars.Context().run(write)
    lines = sink.getvalue().splitlines()
    if len(lines) != 1:
        raise RuntimeError(f"expected one line, the logger wrote {len(lines)}")
    result: dict[str, Any] = orjson.loads(lines[0])
    return result
