"""The event catalogue: every event a service may log, its fields, types, allowed values and levels.

This module is the single source of truth. The logger enforces it at run time, and the rule engine reads
it (through `export()` and `iter_samples()`) to learn which attributes really exist. It is data plus a
few pure functions; it imports nothing from the rest of the package.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, Literal

import orjson

LEVELS: Final = ("debug", "info", "warning", "error", "critical")
"""structlog / stdlib level names, lowest first."""

LEVEL_NUMBERS: Final[Mapping[str, int]] = MappingProxyType(
    {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
)

DATADOG_RESERVED_KEYS: Final = frozenset(
    {"status", "level", "severity", "host", "service", "message", "timestamp", "source", "date"}
)
"""JSON keys Datadog's preprocessing reads as reserved attributes; business data must never use them."""


class Category(StrEnum):
    BUSINESS = "business"
    TECHNICAL = "technical"
    SECURITY = "security"


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    STRING_LIST = "string_list"
    OBJECT = "object"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of an event: its name, JSON type, whether it is required, and its allowed values."""

    name: str
    type: FieldType
    required: bool
    example: Any
    """A valid representative value (used by samples and docs)."""
    allowed: tuple[Any, ...] | None = None
    description: str = ""


RuleOp = Literal["eq", "ne", "gt", "ge", "lt", "le", "present", "absent"]


_COMPARISONS: Final[Mapping[str, Callable[[Any, Any], Any]]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class LevelRule:
    """`field op value` selects `level`; an event's first matching rule wins."""

    field: str
    op: RuleOp
    value: Any
    level: str
    _test: Callable[[Mapping[str, Any]], bool] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_test", _compile_rule(self.field, self.op, self.value))

    def matches(self, fields: Mapping[str, Any]) -> bool:
        """Whether the rule fires; a missing or wrongly typed field never fires a comparison."""
        return self._test(fields)


def _compile_rule(name: str, op: RuleOp, target: Any) -> Callable[[Mapping[str, Any]], bool]:
    """The rule as one small function: it runs for every event that has rules, before sampling."""
    if op == "present":
        return lambda fields: fields.get(name) is not None
    if op == "absent":
        return lambda fields: fields.get(name) is None

    if op in ("eq", "ne"):
        wanted = op == "eq"

        def equality(fields: Mapping[str, Any]) -> bool:
            value = fields.get(name)
            try:
                # Type-strict so that `success=0` does not pass for `success=False`.
                same = isinstance(value, type(target)) and bool(value == target)
            except Exception:
                return False
            return same if wanted else (value is not None and not same)

        return equality

    compare = _COMPARISONS[op]

    def ordering(fields: Mapping[str, Any]) -> bool:
        value = fields.get(name)
        cls = type(value)
        if cls is int or cls is float:
            return bool(compare(value, target))
        if value is None or not _is_number(value):
            return False
        try:
            return bool(compare(value, target))
        except Exception:
            return False

    return ordering


@dataclass(frozen=True, slots=True)
class EventSpec:
    """A catalogued event: its message, fields, level rules and sampling priority."""

    name: str
    category: Category
    message: str
    fields: tuple[FieldSpec, ...]
    default_level: str
    level_rules: tuple[LevelRule, ...]
    always_keep: bool
    _by_name: Mapping[str, FieldSpec] = dataclasses.field(init=False, repr=False, compare=False)
    _required: frozenset[str] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", MappingProxyType({f.name: f for f in self.fields}))
        object.__setattr__(self, "_required", frozenset(f.name for f in self.fields if f.required))

    def field(self, name: str) -> FieldSpec | None:
        return self._by_name.get(name)

    @property
    def field_names(self) -> Mapping[str, FieldSpec]:
        return self._by_name

    @property
    def required_names(self) -> frozenset[str]:
        return self._required

    def level_for(self, fields: Mapping[str, Any]) -> str:
        """The level of the first rule that matches `fields`, else the default level."""
        for rule in self.level_rules:
            if rule._test(fields):
                return rule.level
        return self.default_level


# --- the catalogue ---------------------------------------------------------------------------------

_S, _I, _N, _B, _L, _O = (
    FieldType.STRING,
    FieldType.INTEGER,
    FieldType.NUMBER,
    FieldType.BOOLEAN,
    FieldType.STRING_LIST,
    FieldType.OBJECT,
)
HTTP_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _req(name: str, type_: FieldType, example: Any, description: str = "", **kw: Any) -> FieldSpec:
    return FieldSpec(name, type_, True, example, description=description, **kw)


def _opt(name: str, type_: FieldType, example: Any, description: str = "", **kw: Any) -> FieldSpec:
    return FieldSpec(name, type_, False, example, description=description, **kw)


def _rule(field_name: str, op: RuleOp, value: Any, level: str) -> LevelRule:
    return LevelRule(field_name, op, value, level)


# Shared field definitions, so one field means the same thing in every event.
USER_ID = _req("user_id", _S, "usr_8f14e45f", "Internal user identifier")
OPT_USER_ID = _opt("user_id", _S, "usr_8f14e45f", "Internal user identifier")
IP_ADDRESS = _opt("ip_address", _S, "203.0.113.42", "Client IP (remapped to network.client.ip)")
USER_AGENT = _opt("user_agent", _S, "Mozilla/5.0 (X11; Linux x86_64)", "Client user agent")
TRANSACTION_ID = _req("transaction_id", _S, "txn_5f2c9a", "Payment transaction identifier")
AMOUNT = _req("amount", _N, 125.5, "Amount in major units of `currency`")
CURRENCY = _req("currency", _S, "USD", "ISO 4217 currency code")
PROCESSING_TIME_MS = _opt("processing_time_ms", _N, 184.2, "Processing time in milliseconds")
RESPONSE_TIME_MS = _opt("response_time_ms", _N, 12.7, "Response time in milliseconds")
RETRY_COUNT = _opt("retry_count", _I, 0, "Retries before this outcome")
ERROR_MESSAGE = _opt(
    "error_message", _S, "connection reset by peer", "Error text; its presence makes the line an error"
)
GEOLOCATION = _opt("geolocation", _O, {"country": "DE", "city": "Berlin"}, "Resolved client location")
ENDPOINT = _req("endpoint", _S, "/v1/payments", "Route template or URL path")
OPERATION = _req("operation", _S, "select", "Operation name")

_ERROR_RULES = (_rule("error_message", "present", None, "error"),)

_EVENTS: tuple[EventSpec, ...] = (
    # business
    EventSpec(
        "user_registration",
        Category.BUSINESS,
        "User registered",
        (
            USER_ID,
            _req("email", _S, "jane.doe@example.com", "Registered email (masked or hashed on output)"),
            _opt("registration_method", _S, "email", "How the account was created"),
            USER_AGENT,
            IP_ADDRESS,
            _opt("referrer", _S, "https://example.com/landing", "Referring page"),
        ),
        "info",
        (),
        always_keep=False,
    ),
    EventSpec(
        "payment_attempt",
        Category.BUSINESS,
        "Payment attempt initiated",
        (
            TRANSACTION_ID,
            _req("sender_id", _S, "usr_8f14e45f", "Paying user"),
            _req("receiver_id", _S, "usr_c9f0f895", "Receiving user or merchant"),
            AMOUNT,
            CURRENCY,
            _req("payment_method", _S, "card", "Payment method type"),
            _opt("description", _S, "Invoice 2026-0042", "Free-text payment description"),
            IP_ADDRESS,
            USER_AGENT,
        ),
        "info",
        (),
        always_keep=False,
    ),
    EventSpec(
        "payment_completion",
        Category.BUSINESS,
        "Payment processing finished",
        (
            TRANSACTION_ID,
            _req(
                "payment_status",
                _S,
                "completed",
                "Outcome of the payment (never `status`, which Datadog reads as the log level)",
                allowed=("pending", "completed", "failed", "cancelled", "refunded"),
            ),
            AMOUNT,
            CURRENCY,
            PROCESSING_TIME_MS,
            _opt("fees", _N, 0.75, "Fees charged, in `currency`"),
            _opt("exchange_rate", _N, 1.0, "Applied exchange rate"),
            _req("completion_timestamp", _S, "2026-11-29T12:00:00Z", "When the payment finished (ISO 8601)"),
        ),
        "info",
        (),
        always_keep=True,
    ),
    EventSpec(
        "fraud_detection",
        Category.BUSINESS,
        "Fraud screening decided",
        (
            _opt("transaction_id", _S, "txn_5f2c9a", "Screened transaction, if any"),
            USER_ID,
            _req("risk_score", _N, 0.42, "Model risk score, 0 (safe) to 1"),
            _req("action", _S, "review", "Decision", allowed=("allow", "review", "block")),
            _opt("risk_factors", _L, ["velocity", "new_device"], "Signals that raised the score"),
            _opt("model_version", _S, "fraud-gbm-2026.11", "Scoring model version"),
            _opt("detection_time_ms", _N, 8.4, "Scoring time in milliseconds"),
        ),
        "info",
        (
            _rule("action", "eq", "block", "error"),
            _rule("action", "eq", "review", "warning"),
            _rule("action", "eq", "allow", "info"),
        ),
        always_keep=True,
    ),
    EventSpec(
        "kyc_verification",
        Category.BUSINESS,
        "KYC verification finished",
        (
            USER_ID,
            _req(
                "verification_status",
                _S,
                "approved",
                "Outcome of the check",
                allowed=("approved", "rejected", "pending", "needs_review"),
            ),
            _req("verification_method", _S, "document", "How identity was checked"),
            _opt("document_types", _L, ["passport"], "Documents inspected"),
            _opt("verification_provider", _S, "acme-kyc", "Provider that ran the check"),
            PROCESSING_TIME_MS,
            _opt("confidence_score", _N, 0.97, "Provider confidence, 0 to 1"),
        ),
        "info",
        (),
        always_keep=False,
    ),
    # technical
    EventSpec(
        "database_operation",
        Category.TECHNICAL,
        "Database operation",
        (
            OPERATION,
            _opt("table", _S, "payments", "Table or collection"),
            _opt("query_hash", _S, "9c1185a5", "Hash of the normalised query"),
            _opt("execution_time_ms", _N, 3.2, "Execution time in milliseconds"),
            _opt("rows_affected", _I, 1, "Rows returned or changed"),
            _opt("connection_pool_size", _I, 20, "Pool size at the time"),
            ERROR_MESSAGE,
        ),
        "debug",
        _ERROR_RULES,
        always_keep=False,
    ),
    EventSpec(
        "cache_operation",
        Category.TECHNICAL,
        "Cache operation",
        (
            _req("operation", _S, "get", "Cache command"),
            _req("key", _S, "session:usr_8f14e45f", "Cache key"),
            _opt("hit", _B, True, "Whether a read found the key"),
            RESPONSE_TIME_MS,
            _opt("cache_size", _I, 10240, "Entries in the cache"),
            _opt("ttl", _I, 300, "Time to live in seconds"),
        ),
        "debug",
        (),
        always_keep=False,
    ),
    EventSpec(
        "api_request",
        Category.TECHNICAL,
        "API request",
        (
            _req("method", _S, "POST", "HTTP method", allowed=HTTP_METHODS),
            ENDPOINT,
            _req("status_code", _I, 200, "HTTP response status"),
            _req("response_time_ms", _N, 42.0, "Response time in milliseconds"),
            _opt("request_size_bytes", _I, 512, "Request body size"),
            _opt("response_size_bytes", _I, 2048, "Response body size"),
            OPT_USER_ID,
            IP_ADDRESS,
            USER_AGENT,
        ),
        "info",
        (_rule("status_code", "ge", 400, "error"),),
        always_keep=False,
    ),
    EventSpec(
        "message_queue_operation",
        Category.TECHNICAL,
        "Message queue operation",
        (
            _req("queue_name", _S, "payments.settlement", "Queue or topic"),
            _req("operation", _S, "consume", "Queue operation"),
            _opt("message_id", _S, "msg_01HZX3", "Broker message identifier"),
            PROCESSING_TIME_MS,
            _opt("queue_depth", _I, 12, "Messages waiting"),
            RETRY_COUNT,
            ERROR_MESSAGE,
        ),
        "debug",
        _ERROR_RULES,
        always_keep=False,
    ),
    EventSpec(
        "external_service_call",
        Category.TECHNICAL,
        "External service call",
        (
            _req("service_name", _S, "card-network", "Called service"),
            ENDPOINT,
            _req("method", _S, "POST", "HTTP method", allowed=HTTP_METHODS),
            _opt("status_code", _I, 200, "HTTP response status"),
            RESPONSE_TIME_MS,
            RETRY_COUNT,
            _opt(
                "circuit_breaker_state",
                _S,
                "closed",
                "Breaker state after the call",
                allowed=("closed", "open", "half_open"),
            ),
            ERROR_MESSAGE,
        ),
        "info",
        _ERROR_RULES,
        always_keep=False,
    ),
    # security
    EventSpec(
        "authentication_attempt",
        Category.SECURITY,
        "Authentication attempt",
        (
            OPT_USER_ID,
            _opt("email", _S, "jane.doe@example.com", "Login email (masked or hashed on output)"),
            _req("success", _B, True, "Whether the attempt succeeded"),
            _opt("failure_reason", _S, "invalid_password", "Why it failed"),
            _req("ip_address", _S, "203.0.113.42", "Client IP (remapped to network.client.ip)"),
            USER_AGENT,
            GEOLOCATION,
            _opt("device_fingerprint", _S, "fp_3b1e0c", "Device fingerprint"),
            _opt("mfa_used", _B, False, "Whether a second factor was used"),
        ),
        "info",
        (_rule("success", "eq", False, "warning"),),
        always_keep=True,
    ),
    EventSpec(
        "authorization_failure",
        Category.SECURITY,
        "Authorization failed",
        (
            USER_ID,
            _req("resource", _S, "account:acc_77", "Resource the user tried to reach"),
            _req("action", _S, "refund", "Attempted action"),
            _opt("required_permissions", _L, ["payments:refund"], "Permissions the action needs"),
            _opt("user_permissions", _L, ["payments:read"], "Permissions the user holds"),
            IP_ADDRESS,
            _opt("endpoint", _S, "/v1/refunds", "Route template or URL path"),
        ),
        "warning",
        (),
        always_keep=True,
    ),
    EventSpec(
        "suspicious_activity",
        Category.SECURITY,
        "Suspicious activity detected",
        (
            OPT_USER_ID,
            _req("activity_type", _S, "credential_stuffing", "Kind of activity"),
            _opt("risk_score", _N, 0.91, "Risk score, 0 to 1"),
            _opt("indicators", _L, ["many_failed_logins"], "Observed indicators"),
            IP_ADDRESS,
            USER_AGENT,
            GEOLOCATION,
            _opt("action_taken", _S, "account_locked", "Automatic response"),
        ),
        "error",
        (),
        always_keep=True,
    ),
    EventSpec(
        "data_access",
        Category.SECURITY,
        "Sensitive data accessed",
        (
            USER_ID,
            _req("data_type", _S, "cardholder_data", "Category of data read"),
            _opt("resource_id", _S, "acc_77", "Record that was read"),
            _req("access_method", _S, "admin_console", "How it was read"),
            IP_ADDRESS,
            _opt("purpose", _S, "chargeback_investigation", "Stated business purpose"),
        ),
        "info",
        (),
        always_keep=True,
    ),
    EventSpec(
        "security_incident",
        Category.SECURITY,
        "Security incident detected",
        (
            _req("incident_id", _S, "inc_2026_0042", "Incident identifier"),
            _req("incident_type", _S, "data_exfiltration", "Kind of incident"),
            _req(
                "incident_severity",
                _S,
                "high",
                "Incident severity (never `severity`, which Datadog reads as the log level)",
                allowed=("low", "medium", "high", "critical"),
            ),
            _opt("affected_users", _L, ["usr_8f14e45f"], "Users affected"),
            _opt("affected_systems", _L, ["ledger-db"], "Systems affected"),
            _opt("detection_method", _S, "siem_rule", "How it was detected"),
            _opt("response_actions", _L, ["rotated_credentials"], "Actions taken"),
            _opt("estimated_impact", _S, "up to 120 accounts", "Estimated impact"),
        ),
        "critical",
        (),
        always_keep=True,
    ),
)

CATALOGUE: Final[Mapping[str, EventSpec]] = MappingProxyType({spec.name: spec for spec in _EVENTS})

ALWAYS_KEEP: Final = frozenset(spec.name for spec in _EVENTS if spec.always_keep)

BASE_FIELDS: Final[tuple[FieldSpec, ...]] = (
    _req("timestamp", _S, "2026-11-29T12:00:00.123456Z", "ISO 8601, UTC, microseconds"),
    _req("level", _S, "info", "Log level (Datadog status)", allowed=LEVELS),
    _req("message", _S, "Payment processing finished", "Human-readable message"),
    _req("logger", _S, "payments.api", "Logger name"),
    _req("service", _S, "payment-service", "Datadog unified service tag"),
    _req("env", _S, "prod", "Datadog unified env tag"),
    _req("version", _S, "1.4.2", "Datadog unified version tag"),
    _req("cluster", _S, "prod-eu-1", "Kubernetes cluster"),
    _opt("event_type", _S, "payment_completion", "Catalogued event name", allowed=tuple(CATALOGUE)),
    _opt("correlation_id", _S, "3f2b8c1e-5d7a-4e7b-9c1d-2a6f0e9b7c4d", "Request correlation ID"),
    _opt("dd.trace_id", _S, "6b0c242500000000301e5cb6dbebe45a", "Active Datadog trace"),
    _opt("dd.span_id", _S, "15227843308065000149", "Active Datadog span"),
    _opt("error.kind", _S, "ConnectionError", "Exception type"),
    _opt("error.message", _S, "connection reset by peer", "Exception text"),
    _opt("error.stack", _S, "Traceback (most recent call last): ...", "Formatted traceback"),
    _opt("schema_violations", _L, ["amount: expected number, got str"], "Catalogue problems (production)"),
)


# --- export ------------------------------------------------------------------------------------------


def _field_dict(spec: FieldSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "type": spec.type.value,
        "required": spec.required,
        "example": spec.example,
        "allowed": None if spec.allowed is None else list(spec.allowed),
        "description": spec.description,
    }


def export() -> dict[str, Any]:
    """A JSON-serialisable description of the catalogue, in declaration order."""
    return {
        "levels": list(LEVELS),
        "reserved_keys": sorted(DATADOG_RESERVED_KEYS),
        "base_fields": [_field_dict(f) for f in BASE_FIELDS],
        "events": {
            spec.name: {
                "category": spec.category.value,
                "message": spec.message,
                "default_level": spec.default_level,
                "always_keep": spec.always_keep,
                "level_rules": [
                    {"field": r.field, "op": r.op, "value": r.value, "level": r.level} for r in spec.level_rules
                ],
                "fields": [_field_dict(f) for f in spec.fields],
            }
            for spec in _EVENTS
        },
    }


# --- samples -----------------------------------------------------------------------------------------


def _value_other_than(spec: FieldSpec, value: Any) -> Any:
    candidates: list[Any] = list(spec.allowed or ())
    if spec.type is FieldType.BOOLEAN:
        candidates += [True, False]
    candidates.append(spec.example)
    return next((c for c in candidates if c != value), None)


def _fire(rule: LevelRule, spec: EventSpec, base: dict[str, Any]) -> dict[str, Any] | None:
    """`base` changed so that `rule` matches, or None when the rule cannot be satisfied."""
    target = spec.field(rule.field)
    if target is None:
        return None
    sample = dict(base)
    if rule.op == "absent":
        if target.required:
            return None
        sample.pop(rule.field, None)
        return sample
    value: Any
    if rule.op == "present":
        value = target.example
    elif rule.op == "eq":
        value = rule.value
    elif rule.op == "ne":
        value = _value_other_than(target, rule.value)
    else:
        step = {"gt": 1, "ge": 0, "lt": -1, "le": 0}[rule.op]
        value = rule.value + step
        if target.type is FieldType.NUMBER:
            value = float(value)
    if value is None:
        return None
    sample[rule.field] = value
    return sample


def iter_samples(spec: EventSpec) -> Iterator[dict[str, Any]]:
    """Valid field sets that together cover every allowed value, both booleans and every rule level."""
    full = {f.name: f.example for f in spec.fields}
    minimal = {f.name: f.example for f in spec.fields if f.required}
    candidates: list[dict[str, Any]] = [full, minimal]
    for fspec in spec.fields:
        values: tuple[Any, ...] = fspec.allowed or ()
        if fspec.type is FieldType.BOOLEAN:
            values = (True, False)
        candidates += [{**full, fspec.name: v} for v in values]
    for rule in spec.level_rules:
        for base in (full, minimal):
            sample = _fire(rule, spec, base)
            if sample is not None and spec.level_for(sample) == rule.level:
                candidates.append(sample)
                break
    seen: set[bytes] = set()
    for sample in candidates:
        key = orjson.dumps(sample, option=orjson.OPT_SORT_KEYS)
        if key not in seen:
            seen.add(key)
            yield sample
