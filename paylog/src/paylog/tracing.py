"""Datadog trace correlation: `dd.trace_id` and `dd.span_id` on lines logged inside an active span.

paylog never imports ddtrace itself. Importing it starts the tracer, which is the service's decision
(`ddtrace-run` or an explicit import). When the process has loaded it, its tracer is used; when it has
not, or ddtrace is not installed, lines simply carry no trace IDs.
"""

from __future__ import annotations

import sys
from typing import Any

from structlog.typing import EventDict, WrappedLogger


def _active() -> tuple[Any, Any] | None:
    """The loaded tracer and its active span or context, if both exist."""
    module = sys.modules.get("ddtrace")
    if module is None:
        return None
    try:
        tracer = module.tracer
        active = tracer.context_provider.active()
        if active is None or not active.trace_id:
            return None
        return tracer, active
    except Exception:
        return None


def trace_ids() -> tuple[str, str] | None:
    """`(dd.trace_id, dd.span_id)` of the active span, formatted exactly as ddtrace's log injection does."""
    found = _active()
    if found is None:
        return None
    tracer, active = found
    try:
        context = tracer.get_log_correlation_context(active)
        return str(context["dd.trace_id"]), str(context["dd.span_id"])
    except Exception:
        return None


def trace_key() -> str | None:
    """A stable key for the active trace (for sampling), or None outside a trace."""
    found = _active()
    return None if found is None else str(found[1].trace_id)


def add_trace_ids(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    ids = trace_ids()
    if ids is not None:
        event_dict["dd.trace_id"], event_dict["dd.span_id"] = ids
    return event_dict
