"""The event catalogue: its content, its rules, its export and its samples."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from paylog.catalogue import (
    ALWAYS_KEEP,
    BASE_FIELDS,
    CATALOGUE,
    DATADOG_RESERVED_KEYS,
    LEVELS,
    Category,
    EventSpec,
    FieldSpec,
    FieldType,
    LevelRule,
    export,
    iter_samples,
)
from paylog.redaction import is_sensitive_key
from paylog.schema import check_fields

STRATEGY_EVENTS = {
    Category.BUSINESS: {
        "user_registration",
        "payment_attempt",
        "payment_completion",
        "fraud_detection",
        "kyc_verification",
    },
    Category.TECHNICAL: {
        "database_operation",
        "cache_operation",
        "api_request",
        "message_queue_operation",
        "external_service_call",
    },
    Category.SECURITY: {
        "authentication_attempt",
        "authorization_failure",
        "suspicious_activity",
        "data_access",
        "security_incident",
    },
}

ALL_SPECS = list(CATALOGUE.values())


def spec_id(spec: EventSpec) -> str:
    return spec.name


class TestContent:
    def test_every_strategy_event_is_catalogued_in_its_category(self) -> None:
        """The fifteen events of the logging strategy exist, each in its category."""
        found: dict[Category, set[str]] = {}
        for spec in ALL_SPECS:
            found.setdefault(spec.category, set()).add(spec.name)
        assert found == STRATEGY_EVENTS

    def test_catalogue_is_keyed_by_event_name(self) -> None:
        """CATALOGUE maps each name to the spec of that name."""
        assert all(name == spec.name for name, spec in CATALOGUE.items())

    @pytest.mark.parametrize("spec", ALL_SPECS, ids=spec_id)
    def test_no_field_uses_a_datadog_reserved_key(self, spec: EventSpec) -> None:
        """No business field is named after a reserved attribute Datadog would read instead."""
        assert not {f.name for f in spec.fields} & DATADOG_RESERVED_KEYS

    @pytest.mark.parametrize("spec", ALL_SPECS, ids=spec_id)
    def test_no_field_collides_with_logger_owned_keys(self, spec: EventSpec) -> None:
        """No field is `error` (the error.* object) or one of the logger's own base fields."""
        names = {f.name for f in spec.fields}
        assert "error" not in names
        assert not names & {f.name for f in BASE_FIELDS}

    @pytest.mark.parametrize("spec", ALL_SPECS, ids=spec_id)
    def test_no_field_would_be_redacted_by_name(self, spec: EventSpec) -> None:
        """Redaction by key never erases a catalogued field."""
        assert not [f.name for f in spec.fields if is_sensitive_key(f.name)]

    @pytest.mark.parametrize("spec", ALL_SPECS, ids=spec_id)
    def test_field_names_are_unique_and_examples_valid(self, spec: EventSpec) -> None:
        """Each field appears once and its example passes the event's own checks."""
        names = [f.name for f in spec.fields]
        assert len(names) == len(set(names))
        assert check_fields(spec, {f.name: f.example for f in spec.fields}) == []

    @pytest.mark.parametrize("spec", ALL_SPECS, ids=spec_id)
    def test_levels_are_structlog_level_names(self, spec: EventSpec) -> None:
        """Default and rule levels are debug, info, warning, error or critical."""
        assert spec.default_level in LEVELS
        assert all(rule.level in LEVELS for rule in spec.level_rules)
        assert all(spec.field(rule.field) is not None for rule in spec.level_rules)

    def test_renamed_fields(self) -> None:
        """payment_status, incident_severity and error_message replace status, severity and error."""
        assert CATALOGUE["payment_completion"].field("payment_status") is not None
        assert CATALOGUE["security_incident"].field("incident_severity") is not None
        for name in ("database_operation", "message_queue_operation", "external_service_call"):
            assert CATALOGUE[name].field("error_message") is not None

    def test_strategy_field_names_are_kept(self) -> None:
        """Fields the pipeline remaps keep the names the logging strategy used."""
        api = CATALOGUE["api_request"]
        for name in ("method", "endpoint", "status_code", "response_time_ms", "ip_address", "user_agent"):
            assert api.field(name) is not None, name
        assert CATALOGUE["payment_attempt"].field("payment_method") is not None
        assert CATALOGUE["fraud_detection"].field("risk_score") is not None

    def test_enumerated_fields(self) -> None:
        """Fields whose domain is fixed list their allowed values."""
        allowed = {
            ("fraud_detection", "action"): {"allow", "review", "block"},
            ("external_service_call", "circuit_breaker_state"): {"closed", "open", "half_open"},
            ("security_incident", "incident_severity"): {"low", "medium", "high", "critical"},
        }
        for (event, field), values in allowed.items():
            spec = CATALOGUE[event].field(field)
            assert spec is not None
            assert set(spec.allowed or ()) == values
        method = CATALOGUE["api_request"].field("method")
        assert method is not None
        assert "GET" in (method.allowed or ())
        currency = CATALOGUE["payment_attempt"].field("currency")
        assert currency is not None
        assert currency.allowed is None

    def test_always_keep_covers_the_strategy_list_and_security(self) -> None:
        """The strategy's high-priority events and every security event are never sampled."""
        assert {"security_incident", "fraud_detection", "payment_completion", "authentication_attempt"} <= (ALWAYS_KEEP)
        assert STRATEGY_EVENTS[Category.SECURITY] <= ALWAYS_KEEP
        assert {"api_request", "cache_operation"}.isdisjoint(ALWAYS_KEEP)

    def test_base_fields_and_reserved_keys(self) -> None:
        """BASE_FIELDS lists every key the logger itself writes; the reserved set is Datadog's."""
        assert [f.name for f in BASE_FIELDS] == [
            "timestamp",
            "level",
            "message",
            "logger",
            "service",
            "env",
            "version",
            "cluster",
            "event_type",
            "correlation_id",
            "dd.trace_id",
            "dd.span_id",
            "error.kind",
            "error.message",
            "error.stack",
            "schema_violations",
        ]
        assert {
            "status",
            "level",
            "severity",
            "host",
            "service",
            "message",
            "timestamp",
            "source",
            "date",
        } == DATADOG_RESERVED_KEYS


class TestLevelRules:
    @pytest.mark.parametrize(
        ("event", "fields", "level"),
        [
            ("fraud_detection", {"action": "allow"}, "info"),
            ("fraud_detection", {"action": "review"}, "warning"),
            ("fraud_detection", {"action": "block"}, "error"),
            ("api_request", {"status_code": 200}, "info"),
            ("api_request", {"status_code": 399}, "info"),
            ("api_request", {"status_code": 400}, "error"),
            ("api_request", {"status_code": 503}, "error"),
            ("database_operation", {}, "debug"),
            ("database_operation", {"error_message": "deadlock"}, "error"),
            ("database_operation", {"error_message": None}, "debug"),
            ("message_queue_operation", {}, "debug"),
            ("message_queue_operation", {"error_message": "nack"}, "error"),
            ("external_service_call", {}, "info"),
            ("external_service_call", {"error_message": "timeout"}, "error"),
            ("cache_operation", {"hit": False}, "debug"),
            ("authentication_attempt", {"success": True}, "info"),
            ("authentication_attempt", {"success": False}, "warning"),
            ("authorization_failure", {}, "warning"),
            ("suspicious_activity", {}, "error"),
            ("security_incident", {}, "critical"),
            ("payment_completion", {"payment_status": "failed"}, "info"),
            ("user_registration", {}, "info"),
            ("data_access", {}, "info"),
        ],
    )
    def test_level_for(self, event: str, fields: dict[str, Any], level: str) -> None:
        """Each event's level follows the catalogue (fraud 'allow' is info, not error)."""
        assert CATALOGUE[event].level_for(fields) == level

    def test_first_matching_rule_wins(self) -> None:
        """Rules are tried in order."""
        spec = EventSpec(
            "x",
            Category.TECHNICAL,
            "X",
            (FieldSpec("n", FieldType.INTEGER, True, 1),),
            "info",
            (LevelRule("n", "gt", 10, "error"), LevelRule("n", "gt", 5, "warning")),
            False,
        )
        assert [spec.level_for({"n": n}) for n in (1, 6, 11)] == ["info", "warning", "error"]

    @pytest.mark.parametrize(
        ("op", "value", "fields", "matches"),
        [
            ("eq", False, {"f": False}, True),
            ("eq", False, {"f": 0}, False),
            ("ne", "a", {"f": "b"}, True),
            ("ne", "a", {"f": "a"}, False),
            ("gt", 5, {"f": 6}, True),
            ("gt", 5, {"f": 5}, False),
            ("ge", 5, {"f": 5.0}, True),
            ("lt", 5, {"f": 4}, True),
            ("le", 5, {"f": 6}, False),
            ("gt", 5, {"f": "6"}, False),
            ("gt", 5, {"f": True}, False),
            ("gt", 5, {}, False),
            ("present", None, {"f": 0}, True),
            ("present", None, {"f": None}, False),
            ("absent", None, {}, True),
            ("absent", None, {"f": "x"}, False),
        ],
    )
    def test_rule_operators(self, op: Any, value: Any, fields: dict[str, Any], matches: bool) -> None:
        """Comparisons need a number, eq is type-strict, present means present and not None."""
        assert LevelRule("f", op, value, "error").matches(fields) is matches

    def test_rule_never_raises_on_odd_values(self) -> None:
        """A value whose comparison raises simply does not match."""

        class Hostile:
            def __eq__(self, other: object) -> bool:
                raise RuntimeError("no")

            __hash__ = object.__hash__

        assert LevelRule("f", "eq", Hostile(), "error").matches({"f": Hostile()}) is False


class TestExport:
    def test_export_is_json_and_stable(self) -> None:
        """export() serialises with orjson, twice to the same bytes, in catalogue order."""
        first, second = orjson.dumps(export()), orjson.dumps(export())
        assert first == second
        data = orjson.loads(first)
        assert list(data["events"]) == list(CATALOGUE)
        assert data["reserved_keys"] == sorted(DATADOG_RESERVED_KEYS)
        assert data["levels"] == list(LEVELS)

    def test_export_describes_fields_and_rules(self) -> None:
        """An exported event carries its fields (type, required, example, allowed) and rules."""
        api = export()["events"]["api_request"]
        assert api["category"] == "technical"
        assert api["level_rules"] == [{"field": "status_code", "op": "ge", "value": 400, "level": "error"}]
        method = next(f for f in api["fields"] if f["name"] == "method")
        assert method["type"] == "string"
        assert method["required"] is True
        assert "POST" in method["allowed"]
        fraud = export()["events"]["fraud_detection"]
        assert fraud["always_keep"] is True


class TestSamples:
    @pytest.mark.parametrize("spec", ALL_SPECS, ids=spec_id)
    def test_samples_are_valid(self, spec: EventSpec) -> None:
        """Every sample passes the catalogue checks."""
        samples = list(iter_samples(spec))
        assert samples
        for sample in samples:
            assert check_fields(spec, sample) == [], sample

    @pytest.mark.parametrize("spec", ALL_SPECS, ids=spec_id)
    def test_samples_cover_allowed_values_and_booleans(self, spec: EventSpec) -> None:
        """Each allowed value of each enumerated field and both booleans appear in some sample."""
        samples = list(iter_samples(spec))
        for field in spec.fields:
            wanted: tuple[Any, ...] = field.allowed or ()
            if field.type is FieldType.BOOLEAN:
                wanted = (True, False)
            seen = [s.get(field.name) for s in samples]
            assert all(value in seen for value in wanted), field.name

    @pytest.mark.parametrize("spec", ALL_SPECS, ids=spec_id)
    def test_samples_cover_every_rule_level(self, spec: EventSpec) -> None:
        """Every level a rule can produce is produced by some sample."""
        levels = {spec.level_for(s) for s in iter_samples(spec)}
        assert {rule.level for rule in spec.level_rules} <= levels

    def test_api_request_samples_include_success_and_server_error(self) -> None:
        """api_request gets an info sample and an error sample."""
        samples = list(iter_samples(CATALOGUE["api_request"]))
        assert {s["status_code"] for s in samples} >= {200, 400}
        assert {CATALOGUE["api_request"].level_for(s) for s in samples} == {"info", "error"}

    def test_samples_are_distinct_and_fresh(self) -> None:
        """No sample repeats, and changing one does not change the next iteration."""
        spec = CATALOGUE["database_operation"]
        samples = list(iter_samples(spec))
        keys = [orjson.dumps(s, option=orjson.OPT_SORT_KEYS) for s in samples]
        assert len(keys) == len(set(keys))
        samples[0]["operation"] = "changed"
        assert next(iter_samples(spec))["operation"] != "changed"
