"""paylog: the structured logger the company's Python services import.

    import paylog

    paylog.configure(service="payment-service")
    log = paylog.get_logger(__name__)
    log.event("payment_completion", transaction_id="txn_1", payment_status="failed", ...)

It imports structlog and orjson, uses ddtrace only if the process has loaded it, and never imports
Pulumi or the rule engine.
"""

from paylog._version import __version__
from paylog.catalogue import (
    BASE_FIELDS,
    CATALOGUE,
    DATADOG_RESERVED_KEYS,
    Category,
    EventSpec,
    FieldSpec,
    FieldType,
    LevelRule,
    export,
    iter_samples,
)
from paylog.config import configure, current_settings, get_logger
from paylog.correlation import CorrelationMiddleware, correlation_scope, get_correlation_id
from paylog.events import PaylogLogger
from paylog.render import render
from paylog.schema import EventSchemaError, Violation
from paylog.settings import ConfigError, Settings

__all__ = [
    "BASE_FIELDS",
    "CATALOGUE",
    "DATADOG_RESERVED_KEYS",
    "Category",
    "ConfigError",
    "CorrelationMiddleware",
    "EventSchemaError",
    "EventSpec",
    "FieldSpec",
    "FieldType",
    "LevelRule",
    "PaylogLogger",
    "Settings",
    "Violation",
    "__version__",
    "configure",
    "correlation_scope",
    "current_settings",
    "export",
    "get_correlation_id",
    "get_logger",
    "iter_samples",
    "render",
]
