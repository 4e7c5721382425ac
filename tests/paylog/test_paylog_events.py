"""log.event(): catalogue checks, strict mode and production mode."""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paylog_testing import Configure

import paylog
from paylog import CATALOGUE, EventSchemaError
from paylog.schema import check_fields, violation_lines

GOOD_PAYMENT: dict[str, Any] = {
    "transaction_id": "txn_1",
    "payment_status": "completed",
    "amount": 10.0,
    "currency": "USD",
    "completion_timestamp": "2026-11-29T12:00:00Z",
}


def payment(**changes: Any) -> dict[str, Any]:
    fields = {**GOOD_PAYMENT, **changes}
    return {k: v for k, v in fields.items() if v is not ...}


class TestStrictMode:
    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            (payment(colour="red"), r"event 'payment_completion': field 'colour': unknown field"),
            (payment(status="failed"), r"field 'status': unknown field \(did you mean 'payment_status'\?\)"),
            (payment(transaction_id=...), r"field 'transaction_id': missing required field"),
            (payment(transaction_id=None), r"field 'transaction_id': required field is None"),
            (payment(amount="10"), r"field 'amount': expected number, got str"),
            (payment(amount=True), r"field 'amount': expected number, got bool"),
            (payment(processing_time_ms=[1]), r"field 'processing_time_ms': expected number, got list"),
            (payment(payment_status="done"), r"field 'payment_status': 'done' is not allowed \(allowed: pending"),
        ],
    )
    def test_bad_fields_raise_at_the_call(self, configure: Configure, fields: dict[str, Any], message: str) -> None:
        """Unknown, missing, mistyped and disallowed fields raise EventSchemaError naming event and field."""
        sink = configure(strict=True)
        with pytest.raises(EventSchemaError, match=message):
            paylog.get_logger("p").event("payment_completion", **fields)
        assert sink.raw_lines() == []

    def test_error_lists_every_problem(self, configure: Configure) -> None:
        """One error reports all problems of the call, with structured violations."""
        configure(strict=True)
        with pytest.raises(EventSchemaError) as caught:
            paylog.get_logger("p").event("fraud_detection", user_id=7, risk_score=0.5, action="maybe")
        assert caught.value.event_type == "fraud_detection"
        assert [v.field for v in caught.value.violations] == ["user_id", "action"]

    def test_unknown_event_type_raises(self, configure: Configure) -> None:
        """An event name not in the catalogue raises, suggesting the closest one."""
        configure(strict=True)
        with pytest.raises(EventSchemaError, match=r"unknown event type 'payment_complete'.*payment_completion"):
            paylog.get_logger("p").event("payment_complete", **GOOD_PAYMENT)

    def test_string_list_items_are_checked(self, configure: Configure) -> None:
        """A string-list field rejects non-string items."""
        configure(strict=True)
        with pytest.raises(EventSchemaError, match=r"'risk_factors': expected a list of strings, found int"):
            paylog.get_logger("p").event(
                "fraud_detection", user_id="u", risk_score=0.5, action="allow", risk_factors=["a", 1]
            )

    def test_filtered_events_are_still_checked(self, configure: Configure) -> None:
        """In strict mode a bad debug event raises even when debug lines are filtered out."""
        configure(strict=True, min_level="warning")
        with pytest.raises(EventSchemaError, match="'hit': expected boolean"):
            paylog.get_logger("p").event("cache_operation", operation="get", key="k", hit="yes")

    def test_required_field_may_come_from_bound_context(self, configure: Configure) -> None:
        """A required field bound with bind() or bound_contextvars satisfies the check."""
        import structlog

        sink = configure(strict=True)
        paylog.get_logger("p").bind(user_id="usr_1").event("fraud_detection", risk_score=0.1, action="allow")
        with structlog.contextvars.bound_contextvars(user_id="usr_2"):
            paylog.get_logger("p").event("fraud_detection", risk_score=0.1, action="allow")
        assert [line["user_id"] for line in sink.lines()] == ["usr_1", "usr_2"]

    def test_bound_value_of_wrong_type_is_reported(self, configure: Configure) -> None:
        """A required field taken from context is type-checked too."""
        configure(strict=True)
        with pytest.raises(EventSchemaError, match="'user_id': bound value: expected string, got int"):
            paylog.get_logger("p").bind(user_id=42).event("fraud_detection", risk_score=0.1, action="allow")

    def test_valid_values_of_every_accepted_type(self, configure: Configure) -> None:
        """Subclasses, Decimals and tuples are accepted where their base type is."""
        from decimal import Decimal
        from enum import StrEnum

        class Action(StrEnum):
            BLOCK = "block"

        sink = configure(strict=True)
        paylog.get_logger("p").event(
            "fraud_detection", user_id="u", risk_score=Decimal("0.75"), action=Action.BLOCK, risk_factors=("a",)
        )
        line = sink.only()
        assert (line["risk_score"], line["action"], line["risk_factors"], line["level"]) == (
            0.75,
            "block",
            ["a"],
            "error",
        )


class TestProductionMode:
    def test_bad_fields_are_logged_with_violations(self, configure: Configure) -> None:
        """Production mode writes the event anyway and lists the problems in schema_violations."""
        sink = configure(strict=False)
        paylog.get_logger("p").event("payment_completion", **payment(amount="10", colour="red", currency=...))
        line = sink.only()
        assert line["event_type"] == "payment_completion"
        assert line["amount"] == "10"
        assert line["colour"] == "red"
        assert line["schema_violations"] == [
            "amount: expected number, got str",
            "colour: unknown field",
            "currency: missing required field",
        ]

    def test_violation_lines_are_counted(self, configure: Configure) -> None:
        """Each line written with schema violations is counted once, events and plain lines alike."""
        configure(strict=False)
        log = paylog.get_logger("p")
        log.event("payment_completion", **payment(amount="10"))
        log.event("payment_completion", **payment(amount="10", status="x"))
        log.event("no_such_event")
        log.info("plain", host="db-1")
        log.event("payment_completion", **GOOD_PAYMENT)
        assert violation_lines() == 4

    def test_unknown_event_is_logged_at_info(self, configure: Configure) -> None:
        """An unknown event type is written at info with a violation, not dropped."""
        sink = configure(strict=False)
        paylog.get_logger("p").event("payment_complete", transaction_id="t")
        line = sink.only()
        assert (line["event_type"], line["message"], line["level"]) == (
            "payment_complete",
            "payment_complete",
            "info",
        )
        assert line["schema_violations"][0].startswith("unknown event type 'payment_complete'")

    def test_event_type_keyword_cannot_override_the_event(self, configure: Configure) -> None:
        """A field called event_type is reported and the real event name is kept."""
        sink = configure(strict=False)
        paylog.get_logger("p").event("payment_completion", **GOOD_PAYMENT, event_type="other")
        line = sink.only()
        assert line["event_type"] == "payment_completion"
        assert "event_type: unknown field" in line["schema_violations"]

    def test_broken_sink_does_not_raise(self, configure: Configure) -> None:
        """Even a closed output stream never raises into the service."""
        stream = io.BytesIO()
        configure(strict=False, stream=stream)
        stream.close()
        paylog.get_logger("p").event("payment_completion", **GOOD_PAYMENT)
        paylog.get_logger("p").info("still fine")

    def test_failing_chain_writes_a_fallback_line(self, configure: Configure) -> None:
        """If rendering fails, production mode writes a minimal line saying so."""
        sink = configure(strict=False)

        class Exploding:
            def __bool__(self) -> bool:
                raise RuntimeError("no truth")

        paylog.get_logger("p").info("card 4111 1111 1111 1111", exc_info=Exploding())
        line = sink.only()
        assert line["message"] == "card ************1111"
        assert line["schema_violations"] == ["line could not be rendered: RuntimeError"]
        assert (line["service"], line["logger"], line["level"]) == ("payment-service", "p", "info")

    def test_strict_mode_lets_chain_failures_surface(self, configure: Configure) -> None:
        """In strict mode the same failure raises, so it is found in development."""
        configure(strict=True)

        class Exploding:
            def __bool__(self) -> bool:
                raise RuntimeError("no truth")

        with pytest.raises(RuntimeError, match="no truth"):
            paylog.get_logger("p").info("x", exc_info=Exploding())


class TestCheckFields:
    def test_valid_fields_have_no_problems(self) -> None:
        """A complete, well-typed field set passes."""
        assert check_fields(CATALOGUE["payment_completion"], GOOD_PAYMENT) == []

    def test_optional_none_is_absent(self) -> None:
        """None for an optional field counts as not given."""
        assert check_fields(CATALOGUE["payment_completion"], payment(fees=None)) == []

    def test_short_form(self) -> None:
        """Violations have a compact form for schema_violations."""
        (problem,) = check_fields(CATALOGUE["payment_completion"], payment(amount="x"))
        assert problem.short() == "amount: expected number, got str"


# --- fuzzing: production mode never raises and always writes one JSON line --------------------------


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints examples with its own pretty printer, which looks for this first.
        printer.text("Unprintable()")


class Opaque:
    __slots__ = ()


def self_containing_list() -> list[Any]:
    value: list[Any] = [1]
    value.append(value)
    return value


def self_containing_dict() -> dict[str, Any]:
    value: dict[str, Any] = {"a": 1}
    value["self"] = value
    return value


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


odd_objects: st.SearchStrategy[Any] = st.sampled_from(
    [Unprintable(), Opaque(), object(), math.nan, math.inf, b"\xff\xfebytes", {1, 2}, 2**200, -(2**70), sys]
)
surrogates = st.integers(0xD800, 0xDFFF).map(chr)
texts = st.one_of(
    st.text(max_size=40),
    st.builds(lambda c, n: c * n, st.characters(), st.integers(10_000, 60_000)),
    st.lists(st.one_of(st.characters(), surrogates), max_size=10).map("".join),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), texts, odd_objects)
values = st.one_of(
    st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=5),
            st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), children, max_size=5),
        ),
        max_leaves=20,
    ),
    st.builds(self_containing_list),
    st.builds(self_containing_dict),
    st.integers(0, 3000).map(nested),
)
field_names = st.one_of(
    st.sampled_from(
        ["transaction_id", "amount", "payment_status", "status", "level", "error", "password", "exc_info", "email"]
    ),
    st.text(min_size=1, max_size=12),
).filter(lambda name: name != "event")
field_sets = st.dictionaries(field_names, values, max_size=6)


def assert_one_json_line(raw: list[bytes]) -> dict[str, Any]:
    assert len(raw) == 1, raw
    line: dict[str, Any] = orjson.loads(raw[0])
    assert isinstance(line["timestamp"], str)
    assert line["service"] == "payment-service"
    return line


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestProductionNeverRaises:
    @FUZZ
    @given(event=st.one_of(st.sampled_from(list(CATALOGUE)), st.text(max_size=20)), fields=field_sets)
    def test_event_with_arbitrary_fields(self, event: str, fields: dict[str, Any]) -> None:
        """Any event name and any values: no exception, exactly one valid JSON line."""
        sink = self._sink()
        paylog.get_logger("p").event(event, **fields)
        line = assert_one_json_line(sink.raw_lines())
        assert line["event_type"] == event.encode("utf-8", "replace").decode() or "schema_violations" in line

    @FUZZ
    @given(message=st.one_of(texts, values), fields=field_sets, level=st.sampled_from(["debug", "info", "error"]))
    def test_plain_line_with_arbitrary_values(self, message: Any, fields: dict[str, Any], level: str) -> None:
        """Any message, any fields, any level: no exception, exactly one valid JSON line."""
        sink = self._sink()
        method: Callable[..., Any] = getattr(paylog.get_logger("p"), level)
        method(message, **fields)
        assert_one_json_line(sink.raw_lines())

    @staticmethod
    def _sink() -> Any:
        from paylog_testing import Sink

        from paylog import config

        config.reset()
        sink = Sink()
        paylog.configure(service="payment-service", env="prod", min_level="debug", stream=sink.buffer, environ={})
        return sink
