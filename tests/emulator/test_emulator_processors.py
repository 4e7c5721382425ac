"""Each pipeline processor on hand-built records, as Datadog's processor documentation describes it."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_testing import compile_filter, record, rules_from_yaml
from pydantic import TypeAdapter

from logmon.emulator import Emulator
from logmon.emulator.processors import Step, UnsupportedExpression, compile_processor, parse_expression
from logmon.logrecord import LogRecord
from logmon.rules import model

PROCESSOR: TypeAdapter[model.Processor] = TypeAdapter(model.Processor)


def step(**definition: Any) -> Step:
    """A processor written as in `rules/pipelines.yaml`, compiled."""
    compiled = compile_processor(PROCESSOR.validate_python(definition), compile_filter)
    assert compiled is not None
    return compiled


def run(definition: dict[str, Any], log: LogRecord) -> LogRecord:
    step(**definition)(log)
    return log


def remap(**options: Any) -> dict[str, Any]:
    return {"type": "attribute_remapper", **options}


class TestAttributeRemapper:
    def test_moves_the_source_to_the_target(self) -> None:
        """The source attribute moves to the target and is removed."""
        log = run(remap(sources=["ip_address"], target="network.client.ip"), record({"ip_address": "203.0.113.9"}))
        assert log.attributes == {"network": {"client": {"ip": "203.0.113.9"}}}

    def test_first_present_source_wins(self) -> None:
        """With several sources, the first one present is used and only it is moved."""
        log = run(
            remap(sources=["client_ip", "ip_address", "remote_addr"], target="network.client.ip"),
            record({"ip_address": "10.0.0.1", "remote_addr": "10.0.0.2"}),
        )
        assert log.attributes == {"network": {"client": {"ip": "10.0.0.1"}}, "remote_addr": "10.0.0.2"}

    def test_nested_source(self) -> None:
        """A dotted source reads a nested attribute and prunes the emptied parent."""
        log = run(remap(sources=["request.ua"], target="http.useragent"), record({"request": {"ua": "curl/8"}}))
        assert log.attributes == {"http": {"useragent": "curl/8"}}

    def test_absent_source_changes_nothing(self) -> None:
        """Without any source present, the record is untouched."""
        log = run(remap(sources=["user_id"], target="usr.id"), record({"other": 1}))
        assert log.attributes == {"other": 1}

    def test_preserve_source_keeps_it(self) -> None:
        """`preserve_source` copies instead of moving."""
        log = run(remap(sources=["user_id"], target="usr.id", preserve_source=True), record({"user_id": "u1"}))
        assert log.attributes == {"user_id": "u1", "usr": {"id": "u1"}}

    def test_existing_target_is_kept_without_override(self) -> None:
        """Without `override_on_conflict`, an existing target wins and the source stays where it was."""
        log = run(remap(sources=["user_id"], target="usr.id"), record({"user_id": "new", "usr": {"id": "old"}}))
        assert log.attributes == {"user_id": "new", "usr": {"id": "old"}}

    def test_override_on_conflict_replaces_the_target(self) -> None:
        """With `override_on_conflict`, the source replaces an existing target."""
        log = run(
            remap(sources=["user_id"], target="usr.id", override_on_conflict=True),
            record({"user_id": "new", "usr": {"id": "old"}}),
        )
        assert log.attributes == {"usr": {"id": "new"}}

    def test_override_on_conflict_with_several_sources(self) -> None:
        """The general path (several sources) honours the conflict rule the same way."""
        kept = run(remap(sources=["a", "b"], target="t"), record({"b": 2, "t": 0}))
        replaced = run(remap(sources=["a", "b"], target="t", override_on_conflict=True), record({"b": 2, "t": 0}))
        assert kept.attributes == {"b": 2, "t": 0}
        assert replaced.attributes == {"t": 2}

    @pytest.mark.parametrize(
        ("value", "target_format", "expected"),
        [
            ("503", "integer", 503),
            (503.9, "integer", 503),
            ("12.5", "double", 12.5),
            (7, "double", 7.0),
            (503, "string", "503"),
            ("abc", "integer", "abc"),
            ("42", "auto", "42"),
        ],
    )
    def test_target_format_converts(self, value: Any, target_format: str, expected: Any) -> None:
        """`target_format` casts to integer, double or string; a value that is no number stays as it is."""
        for sources in (["code"], ["missing", "code"]):  # the single-source fast path and the general one
            log = run(
                remap(sources=sources, target="http.status_code", target_format=target_format),
                record({"code": value}),
            )
            converted = log.attributes["http"]["status_code"]
            assert converted == expected
            assert type(converted) is type(expected)

    def test_in_place_conversion(self) -> None:
        """A source equal to the target converts the value where it is."""
        log = run(
            remap(sources=["status_code"], target="status_code", target_format="integer"),
            record({"status_code": "404"}),
        )
        assert log.attributes == {"status_code": 404}

    def test_tag_source_to_attribute(self) -> None:
        """A tag source reads `key:value` from the tags, moves it, and drops the tag."""
        log = run(
            remap(sources=["team"], source_type="tag", target="owner.team"),
            record({}, tags=["env:prod", "team:payments"]),
        )
        assert log.attributes == {"owner": {"team": "payments"}}
        assert log.tags == ["env:prod"]

    def test_attribute_to_tag_target(self) -> None:
        """A tag target is written as a lower-case `key:value` tag, replacing any tag with that key."""
        log = run(
            remap(sources=["cloud.region"], target="region", target_type="tag", override_on_conflict=True),
            record({"cloud": {"region": "EU-West"}}, tags=["region:us"]),
        )
        assert log.tags == ["region:eu-west"]
        assert log.attributes == {}

    @pytest.mark.parametrize("direction", ["attribute to tag", "tag to attribute"])
    def test_moving_between_kinds_under_the_same_name(self, direction: str) -> None:
        """Remapping `region` between attribute and tag (not preserved) leaves it only where it was moved to."""
        if direction == "attribute to tag":
            log = run(remap(sources=["region"], target="region", target_type="tag"), record({"region": "EU-West"}))
            assert (log.attributes, log.tags) == ({}, ["region:eu-west"])
        else:
            log = run(
                remap(sources=["region"], source_type="tag", target="region"), record({}, tags=["region:eu-west"])
            )
            assert (log.attributes, log.tags) == ({"region": "eu-west"}, [])

    def test_existing_tag_target_kept_without_override(self) -> None:
        """An existing tag with the target key wins unless overriding."""
        log = run(
            remap(sources=["region"], target="region", target_type="tag"), record({"region": "eu"}, tags=["region:us"])
        )
        assert log.tags == ["region:us"]
        assert log.attributes == {"region": "eu"}

    def test_target_nested_under_its_own_source(self) -> None:
        """`logger` → `logger.name` turns the string into an object holding it."""
        log = run(remap(sources=["logger"], target="logger.name"), record({"logger": "payments.api"}))
        assert log.attributes == {"logger": {"name": "payments.api"}}

    def test_target_nested_under_its_own_source_general_path(self) -> None:
        """The general path (several sources) nests a target under its source the same way."""
        log = run(remap(sources=["logger_name", "logger"], target="logger.name"), record({"logger": "payments.api"}))
        assert log.attributes == {"logger": {"name": "payments.api"}}

    def test_target_replaces_a_scalar_in_the_way(self) -> None:
        """A scalar where the target needs an object is replaced by the object (override allowed)."""
        log = run(
            remap(sources=["ua"], target="http.useragent", override_on_conflict=True),
            record({"ua": "curl/8", "http": "GET"}),
        )
        assert log.attributes == {"http": {"useragent": "curl/8"}}

    def test_disabled_processor_is_not_compiled(self) -> None:
        """A disabled processor compiles to nothing."""
        disabled = PROCESSOR.validate_python(remap(sources=["a"], target="b", enabled=False))
        assert compile_processor(disabled, compile_filter) is None


class TestReservedRemappers:
    @pytest.mark.parametrize(
        ("raw", "status"),
        [("error", "error"), ("WARN", "warning"), ("fatal", "emergency"), (3, "error"), ("ok", "ok")],
    )
    def test_status_remapper_maps_like_preprocessing(self, raw: Any, status: str) -> None:
        """The status remapper applies the status mapping and keeps the source attribute."""
        log = run({"type": "status_remapper", "sources": ["lvl"]}, record({"lvl": raw}))
        assert log.status == status
        assert log.attributes == {"lvl": raw}

    def test_status_remapper_first_present_source(self) -> None:
        """The first present source decides; later ones are ignored."""
        log = run({"type": "status_remapper", "sources": ["a", "b"]}, record({"b": "error", "c": "debug"}))
        assert log.status == "error"

    def test_status_remapper_without_source_keeps_status(self) -> None:
        """Without a present source the status is unchanged."""
        log = run({"type": "status_remapper", "sources": ["lvl"]}, record({}, status="warning"))
        assert log.status == "warning"

    def test_service_remapper(self) -> None:
        """The service remapper sets the reserved service from a nested source."""
        log = run({"type": "service_remapper", "sources": ["app.name"]}, record({"app": {"name": "ledger"}}))
        assert log.service == "ledger"
        assert log.attributes == {"app": {"name": "ledger"}}

    def test_date_remapper(self) -> None:
        """The date remapper reads ISO 8601 or epoch milliseconds; an unreadable value keeps the old date."""
        iso = run({"type": "date_remapper", "sources": ["at"]}, record({"at": "1970-01-01T00:01:00Z"}))
        millis = run({"type": "date_remapper", "sources": ["at"]}, record({"at": 90_000}))
        junk = run({"type": "date_remapper", "sources": ["at"]}, record({"at": "soon"}, timestamp=5.0))
        assert (iso.timestamp, millis.timestamp, junk.timestamp) == (60.0, 90.0, 5.0)

    def test_message_remapper(self) -> None:
        """The message remapper sets the message from the first present source."""
        log = run({"type": "message_remapper", "sources": ["msg", "text"]}, record({"text": "hello"}))
        assert log.message == "hello"

    def test_trace_id_remapper(self) -> None:
        """The trace-ID remapper sets the trace ID, as text."""
        log = run({"type": "trace_id_remapper", "sources": ["dd.trace_id"]}, record({"dd": {"trace_id": 99}}))
        assert log.trace_id == "99"


class TestCategoryProcessor:
    CATEGORIES = {
        "type": "category_processor",
        "target": "http.status_category",
        "categories": [
            {"name": "server error", "filter": "@http.status_code:[500 TO 599]"},
            {"name": "error", "filter": "@http.status_code:>=400"},
            {"name": "ok", "filter": "@http.status_code:[200 TO 299]"},
        ],
    }

    @pytest.mark.parametrize(
        ("code", "category"),
        [(503, "server error"), (404, "error"), (200, "ok")],
    )
    def test_first_matching_category_wins(self, code: int, category: str) -> None:
        """The first category whose filter matches names the log, even when later ones also match."""
        log = run(self.CATEGORIES, record({"http": {"status_code": code}}))
        assert log.attributes["http"]["status_category"] == category

    def test_no_matching_category_sets_nothing(self) -> None:
        """A log no category matches gets no target attribute."""
        log = run(self.CATEGORIES, record({"http": {"status_code": 301}}))
        assert log.attributes == {"http": {"status_code": 301}}


class TestLookupProcessor:
    LOOKUP = {
        "type": "lookup_processor",
        "source": "http.status_code",
        "target": "http.status_text",
        "lookup_table": {"200": "OK", "503": "Service Unavailable"},
    }

    def test_maps_through_the_table(self) -> None:
        """A value found in the table (compared as text) sets the target."""
        log = run(self.LOOKUP, record({"http": {"status_code": 503}}))
        assert log.attributes["http"]["status_text"] == "Service Unavailable"

    def test_default_for_unknown_values(self) -> None:
        """A value not in the table gets `default_lookup`."""
        log = run({**self.LOOKUP, "default_lookup": "other"}, record({"http": {"status_code": 418}}))
        assert log.attributes["http"]["status_text"] == "other"

    def test_no_default_sets_nothing(self) -> None:
        """Without a default, an unknown value sets nothing."""
        log = run(self.LOOKUP, record({"http": {"status_code": 418}}))
        assert log.attributes == {"http": {"status_code": 418}}

    def test_absent_source_sets_nothing(self) -> None:
        """Without the source attribute nothing is set, not even the default."""
        log = run({**self.LOOKUP, "default_lookup": "other"}, record({}))
        assert log.attributes == {}


class TestArithmeticProcessor:
    @staticmethod
    def arithmetic(expression: str, target: str = "result", **options: Any) -> dict[str, Any]:
        return {"type": "arithmetic_processor", "expression": expression, "target": target, **options}

    def test_computes_into_the_target(self) -> None:
        """The expression is evaluated over attribute values and written to the target."""
        log = run(self.arithmetic("response_time_ms * 1000000", "duration"), record({"response_time_ms": 12.5}))
        assert log.attributes["duration"] == 12_500_000

    def test_nested_attributes_and_functions(self) -> None:
        """Dotted attribute paths, parentheses, unary minus and the allowed functions work."""
        log = run(
            self.arithmetic("max(http.size, 0) + round(-(a - b) / 2)"),
            record({"http": {"size": 10}, "a": 3, "b": 7}),
        )
        assert log.attributes["result"] == 12

    def test_missing_attribute_skips(self) -> None:
        """A missing attribute skips the computation entirely."""
        log = run(self.arithmetic("a + b"), record({"a": 1}))
        assert "result" not in log.attributes

    def test_non_numeric_attribute_skips(self) -> None:
        """A string or boolean is not a number: the computation is skipped."""
        for value in ("5", True, None, [1]):
            assert "result" not in run(self.arithmetic("a + 1"), record({"a": value})).attributes

    def test_replace_missing_uses_zero(self) -> None:
        """With `is_replace_missing`, a missing attribute counts as 0."""
        log = run(self.arithmetic("a + b", is_replace_missing=True), record({"a": 4}))
        assert log.attributes["result"] == 4

    def test_division_by_zero_skips(self) -> None:
        """Division by zero leaves the target unset instead of failing."""
        log = run(self.arithmetic("a / b"), record({"a": 1, "b": 0}))
        assert "result" not in log.attributes

    def test_parse_expression_lists_the_attributes_read(self) -> None:
        """`parse_expression` returns the attributes an expression reads, in order."""
        evaluate, names = parse_expression("(bytes.sent + bytes.received) / elapsed % 7")
        assert names == ["bytes.sent", "bytes.received", "elapsed"]
        values = {"bytes.sent": 10, "bytes.received": 4, "elapsed": 2}
        assert evaluate(values.__getitem__) == 0

    @pytest.mark.parametrize(
        "expression",
        ["a ** 2", "a if b else c", "__import__('os')", "a.b()", "'text'", "a <", "", "a and b", "[a]", "True + 1"],
    )
    def test_unsupported_expressions_are_rejected(self, expression: str) -> None:
        """Anything beyond numbers, attributes, + - * / %, unary minus and the allowed functions is an error."""
        with pytest.raises(UnsupportedExpression):
            parse_expression(expression)


class TestPipelines:
    RULES = """
        pipelines:
          web:
            name: web
            filter: "source:nginx"
            processors:
              - type: attribute_remapper
                sources: [client]
                target: network.client.ip
          disabled:
            name: disabled
            enabled: false
            processors:
              - type: status_remapper
                sources: [lvl]
          partial:
            name: partial
            processors:
              - type: service_remapper
                enabled: false
                sources: [app]
              - type: message_remapper
                sources: [text]
          later:
            name: later
            filter: "@network.client.ip:*"
            processors:
              - type: lookup_processor
                source: network.client.ip
                target: network.client.zone
                lookup_table: {"10.0.0.1": internal}
    """

    def test_pipeline_filter_is_respected(self) -> None:
        """A pipeline runs only on logs its filter matches."""
        emulator = Emulator(rules_from_yaml(self.RULES), source="python")
        assert emulator.process({"client": "10.0.0.1"}).attributes == {"client": "10.0.0.1"}
        nginx = Emulator(rules_from_yaml(self.RULES), source="nginx").process({"client": "10.0.0.1"})
        assert nginx.attributes["network"]["client"]["ip"] == "10.0.0.1"

    def test_disabled_pipeline_and_processor_are_skipped(self) -> None:
        """A disabled pipeline and a disabled processor change nothing; enabled neighbours still run."""
        log = Emulator(rules_from_yaml(self.RULES)).process({"lvl": "error", "app": "ledger", "text": "hi"})
        assert (log.status, log.service, log.message) == ("info", "", "hi")

    def test_pipelines_run_in_order_on_earlier_results(self) -> None:
        """A later pipeline's filter sees what earlier pipelines wrote."""
        log = Emulator(rules_from_yaml(self.RULES), source="nginx").process({"client": "10.0.0.1"})
        assert log.attributes["network"]["client"]["zone"] == "internal"
