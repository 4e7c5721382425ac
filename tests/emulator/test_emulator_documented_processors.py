"""The structuring and enrichment processors against the examples of Datadog's processor pages.

Each case of `DOCUMENTED` is an example from Datadog's documentation (the page and section are cited per
case): the processor as the page configures it, the log before, and the log after as the page shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from emulator_testing import compile_filter, record, rules_from_yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from logmon.emulator import Emulator
from logmon.emulator.enrichers import decode, device_category, parse_url, template_parts
from logmon.emulator.processors import Step, compile_processor
from logmon.logrecord import LogRecord
from logmon.rules import model

PROCESSOR: TypeAdapter[model.Processor] = TypeAdapter(model.Processor)
PAGES = "https://docs.datadoghq.com/logs/log_configuration/processors/"
CHROME_ON_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/118.0.5993.90 Safari/537.36"
)


def step(definition: dict[str, Any]) -> Step:
    compiled = compile_processor(PROCESSOR.validate_python(definition), compile_filter)
    assert compiled is not None
    return compiled


def run(definition: dict[str, Any], attributes: dict[str, Any], **reserved: Any) -> LogRecord:
    log = record(attributes, **reserved)
    step(definition)(log)
    return log


@dataclass(frozen=True)
class Documented:
    source: str
    """The page and section the example comes from."""
    processor: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]
    unknown: frozenset[str] = field(default_factory=frozenset)


DOCUMENTED: dict[str, Documented] = {
    "url-parser": Documented(
        f"{PAGES}url_parser/ — Before and after state of logs",
        {"type": "url_parser", "sources": ["http.url"], "target": "http.url_details"},
        {"http": {"method": "GET", "url": "https://api.example.com/v1/orders?user_id=12345&limit=20"}},
        {
            "http": {
                "method": "GET",
                "url": "https://api.example.com/v1/orders?user_id=12345&limit=20",
                "url_details": {
                    "host": "api.example.com",
                    "path": "/v1/orders",
                    "port": 443,
                    "queryString": {"user_id": "12345", "limit": "20"},
                    "scheme": "https",
                },
            }
        },
    ),
    "user-agent-parser": Documented(
        f"{PAGES}user_agent_parser/ — Before and after state of logs",
        {"type": "user_agent_parser", "sources": ["client.user_agent"], "target": "http.useragent_details"},
        {"client": {"user_agent": CHROME_ON_MAC}},
        {
            "client": {"user_agent": CHROME_ON_MAC},
            "http": {
                "useragent_details": {
                    "browser": {"family": "Chrome", "major": "118", "minor": "0", "patch": "5993", "patch_minor": "90"},
                    "device": {"brand": "Apple", "category": "Desktop", "family": "Mac", "model": "Mac"},
                    "os": {"family": "Mac OS X", "major": "10", "minor": "15", "patch": "7"},
                }
            },
        },
    ),
    "string-builder-setup": Documented(
        f"{PAGES}string_builder_processor/ — Setup",
        {
            "type": "string_builder_processor",
            "template": "Request %{http.method} %{http.url} was answered with response %{http.status_code}",
            "target": "summary",
        },
        {"http": {"method": "GET", "status_code": 200, "url": "https://app.datadoghq.com/users"}},
        {
            "http": {"method": "GET", "status_code": 200, "url": "https://app.datadoghq.com/users"},
            "summary": "Request GET https://app.datadoghq.com/users was answered with response 200",
        },
    ),
    "string-builder-array-of-values": Documented(
        f"{PAGES}string_builder_processor/ — Setup (`%{{array_ids}}`)",
        {"type": "string_builder_processor", "template": "%{array_ids}", "target": "ids"},
        {"array_ids": [123, 456, 789]},
        {"array_ids": [123, 456, 789], "ids": "123,456,789"},
    ),
    "string-builder-array-of-objects": Documented(
        f"{PAGES}string_builder_processor/ — Setup (`%{{array_users.first_name}}`)",
        {"type": "string_builder_processor", "template": "%{array_users.first_name}", "target": "names"},
        {"array_users": [{"first_name": "John", "last_name": "Doe"}, {"first_name": "Jack", "last_name": "London"}]},
        {
            "array_users": [{"first_name": "John", "last_name": "Doe"}, {"first_name": "Jack", "last_name": "London"}],
            "names": "John,Jack",
        },
    ),
    "string-builder-object-block-fails": Documented(
        f"{PAGES}string_builder_processor/ — Setup (`%{{http}}` fails)",
        {"type": "string_builder_processor", "template": "%{http}", "target": "out"},
        {"http": {"method": "GET"}},
        {"http": {"method": "GET"}},
    ),
    "string-builder-summary": Documented(
        f"{PAGES}string_builder_processor/ — Before and after state of logs",
        {
            "type": "string_builder_processor",
            "template": "Actor %{usr.email} performed event %{evt.name} on file %{file.id}",
            "target": "summary",
        },
        {"usr": {"email": "alice@example.com"}, "evt": {"name": "file_deleted"}, "file": {"id": "abc123"}},
        {
            "usr": {"email": "alice@example.com"},
            "evt": {"name": "file_deleted"},
            "file": {"id": "abc123"},
            "summary": "Actor alice@example.com performed event file_deleted on file abc123",
        },
    ),
    "array-select": Documented(
        f"{PAGES}array_processor/ — Select value from matching element",
        {
            "type": "array_processor",
            "operation": {
                "type": "select",
                "source": "httpRequest.headers",
                "filter": "name:Referrer",
                "value_to_extract": "value",
                "target": "referrer",
            },
        },
        {
            "httpRequest": {
                "headers": [
                    {"name": "Referrer", "value": "https://example.com"},
                    {"name": "Accept", "value": "application/json"},
                ]
            }
        },
        {
            "httpRequest": {
                "headers": [
                    {"name": "Referrer", "value": "https://example.com"},
                    {"name": "Accept", "value": "application/json"},
                ]
            },
            "referrer": "https://example.com",
        },
    ),
    "array-length": Documented(
        f"{PAGES}array_processor/ — Array length",
        {"type": "array_processor", "operation": {"type": "length", "source": "tags", "target": "tagCount"}},
        {"tags": ["prod", "internal", "critical"]},
        {"tags": ["prod", "internal", "critical"], "tagCount": 3},
    ),
    "array-append": Documented(
        f"{PAGES}array_processor/ — Append to array",
        {
            "type": "array_processor",
            "operation": {"type": "append", "source": "network.client.ip", "target": "sourceIps"},
        },
        {"network": {"client": {"ip": "198.51.100.23"}}, "sourceIps": ["203.0.113.1"]},
        {"network": {"client": {"ip": "198.51.100.23"}}, "sourceIps": ["203.0.113.1", "198.51.100.23"]},
    ),
    "array-append-creates-target": Documented(
        f"{PAGES}array_processor/ — Append to array (note: a missing target array is created)",
        {
            "type": "array_processor",
            "operation": {"type": "append", "source": "network.client.ip", "target": "sourceIps"},
        },
        {"network": {"client": {"ip": "198.51.100.23"}}},
        {"network": {"client": {"ip": "198.51.100.23"}}, "sourceIps": ["198.51.100.23"]},
    ),
    "array-map": Documented(
        f"{PAGES}array_map_processor/ — Before and after state of logs",
        {
            "type": "array_map_processor",
            "source": "connections",
            "target": "network.connections",
            "processors": [
                {"type": "attribute_remapper", "sources": ["$sourceElem.src_ip"], "target": "$targetElem.source"},
                {
                    "type": "string_builder_processor",
                    "template": "%{$sourceElem.proto}/%{$sourceElem.dst_port}",
                    "target": "$targetElem.service",
                },
            ],
        },
        {"connections": [{"src_ip": "10.0.0.1", "dst_port": 443, "proto": "tcp"}]},
        {
            "connections": [{"src_ip": "10.0.0.1", "dst_port": 443, "proto": "tcp"}],
            "network": {"connections": [{"source": "10.0.0.1", "service": "tcp/443"}]},
        },
    ),
    "array-map-primitive-elements": Documented(
        f"{PAGES}array_map_processor/ — Sub-processors, Attribute Remapper",
        {
            "type": "array_map_processor",
            "source": "items",
            "target": "out",
            "processors": [
                {
                    "type": "attribute_remapper",
                    "sources": ["$sourceElem"],
                    "target": "$targetElem.ip",
                    "preserve_source": True,
                }
            ],
        },
        {"items": ["10.0.0.1", "10.0.0.2"]},
        {"items": ["10.0.0.1", "10.0.0.2"], "out": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]},
    ),
    "array-map-parent-attribute": Documented(
        f"{PAGES}array_map_processor/ — Sub-processors, String Builder Processor",
        {
            "type": "array_map_processor",
            "source": "items",
            "target": "out",
            "processors": [
                {
                    "type": "string_builder_processor",
                    "template": "%{$sourceElem.name}.%{region}",
                    "target": "$targetElem.fqdn",
                }
            ],
        },
        {"region": "us-east-1", "items": [{"name": "db-1"}, {"name": "db-2"}]},
        {
            "region": "us-east-1",
            "items": [{"name": "db-1"}, {"name": "db-2"}],
            "out": [{"fqdn": "db-1.us-east-1"}, {"fqdn": "db-2.us-east-1"}],
        },
    ),
    "array-map-arithmetic": Documented(
        f"{PAGES}array_map_processor/ — Sub-processors, Arithmetic Processor",
        {
            "type": "array_map_processor",
            "source": "items",
            "target": "out",
            "processors": [
                {"type": "arithmetic_processor", "expression": "$sourceElem.bytes / 1024", "target": "$targetElem.kb"}
            ],
        },
        {"items": [{"bytes": 1024}, {"bytes": 2048}]},
        {"items": [{"bytes": 1024}, {"bytes": 2048}], "out": [{"kb": 1}, {"kb": 2}]},
    ),
    "array-map-category": Documented(
        f"{PAGES}array_map_processor/ — Sub-processors, Category Processor",
        {
            "type": "array_map_processor",
            "source": "items",
            "target": "out",
            "processors": [
                {
                    "type": "category_processor",
                    "target": "$targetElem.severity",
                    "categories": [
                        {"name": "high", "filter": "@$sourceElem.status:critical"},
                        {"name": "medium", "filter": "@$sourceElem.status:warning"},
                    ],
                }
            ],
        },
        {"items": [{"status": "critical"}, {"status": "warning"}]},
        {
            "items": [{"status": "critical"}, {"status": "warning"}],
            "out": [{"severity": "high"}, {"severity": "medium"}],
        },
    ),
    "exclude-attribute": Documented(
        f"{PAGES}exclude_attribute_processor/ — Before and after state of logs",
        {"type": "exclude_attribute_processor", "attribute_to_exclude": "http.response.body"},
        {"http": {"response": {"body": '{"error":"card_declined"}'}}, "tx_id": "TX-8847291", "amount": 249.99},
        {"tx_id": "TX-8847291", "amount": 249.99},
    ),
    "geoip-unknown-offline": Documented(
        f"{PAGES}geoip_parser/ — Before and after state of logs (the database is Datadog's: unknown offline)",
        {"type": "geo_ip_parser", "sources": ["network.client.ip"], "target": "network.client.geoip"},
        {"network": {"client": {"ip": "203.0.113.42"}}},
        {"network": {"client": {"ip": "203.0.113.42"}}},
        frozenset({"network.client.geoip"}),
    ),
}


class TestDocumentedExamples:
    @pytest.mark.parametrize("case", DOCUMENTED.values(), ids=DOCUMENTED.keys())
    def test_the_log_after_the_processor_is_the_documented_one(self, case: Documented) -> None:
        """Each documented example gives the documented log (and marks unknown what cannot be known offline)."""
        log = run(case.processor, _copy(case.before))
        assert log.attributes == case.after, case.source
        assert log.unknown == case.unknown, case.source


def _copy(document: dict[str, Any]) -> dict[str, Any]:
    import copy

    return copy.deepcopy(document)


class TestUrlParser:
    def test_relative_url_has_no_host_or_port(self) -> None:
        """An nginx request path parses to its path and query string, with no invented host or port."""
        details, repeated = parse_url("/v1/orders?id=7") or ({}, [])
        assert details == {"path": "/v1/orders", "queryString": {"id": "7"}}
        assert repeated == []

    def test_explicit_port_and_http_default(self) -> None:
        """An explicit port is kept; plain http defaults to 80."""
        assert (parse_url("http://h:8080/x") or ({}, []))[0]["port"] == 8080
        assert (parse_url("http://h/x") or ({}, []))[0]["port"] == 80

    def test_normalize_ending_slashes(self) -> None:
        """`normalize_ending_slashes` drops the trailing slash but keeps the root path."""
        assert (parse_url("https://h/users/", True) or ({}, []))[0]["path"] == "/users"
        assert (parse_url("https://h/", True) or ({}, []))[0]["path"] == "/"
        assert (parse_url("https://h/users/", False) or ({}, []))[0]["path"] == "/users/"

    def test_repeated_query_key_is_unknown(self) -> None:
        """A key given twice has an undocumented value: it is marked unknown, not guessed."""
        log = run({"type": "url_parser"}, {"http": {"url": "/a?x=1&x=2&y=3"}})
        assert log.attributes["http"]["url_details"]["queryString"] == {"y": "3"}
        assert log.is_unknown("http.url_details.queryString.x")
        assert not log.is_unknown("http.url_details.queryString.y")

    def test_not_a_string_or_bad_port_changes_nothing(self) -> None:
        """A non-string source or an unparseable URL leaves the log as it was."""
        assert run({"type": "url_parser"}, {"http": {"url": 5}}).attributes == {"http": {"url": 5}}
        assert run({"type": "url_parser"}, {"http": {"url": "http://h:99999999/"}}).attributes == {
            "http": {"url": "http://h:99999999/"}
        }

    @settings(max_examples=60, deadline=None)
    @given(st.text(max_size=80))
    def test_any_text_parses_or_is_refused(self, text: str) -> None:
        """The URL parser never raises, whatever the text."""
        result = parse_url(text)
        assert result is None or isinstance(result[0], dict)


class TestUserAgentParser:
    def test_encoded_user_agent_is_decoded_first(self) -> None:
        """`is_encoded` decodes an IIS-style URL-encoded user agent before parsing it."""
        encoded = CHROME_ON_MAC.replace(" ", "+").replace("(", "%28").replace(")", "%29")
        log = run({"type": "user_agent_parser", "is_encoded": True}, {"http": {"useragent": encoded}})
        assert log.attributes["http"]["useragent_details"]["browser"]["family"] == "Chrome"

    def test_unclassifiable_device_category_is_unknown(self) -> None:
        """A client such as curl gets families but its device category is unknown, not invented."""
        log = run({"type": "user_agent_parser"}, {"http": {"useragent": "curl/8.4.0"}})
        details = log.attributes["http"]["useragent_details"]
        assert details["browser"]["family"] == "curl"
        assert details["os"] == {"family": "Other"}
        assert "category" not in details["device"]
        assert log.is_unknown("http.useragent_details.device.category")

    @pytest.mark.parametrize(
        ("os_family", "device_family", "text", "category"),
        [
            ("Other", "Spider", "Googlebot/2.1", "Bot"),
            ("iOS", "iPad", "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) Mobile/15E148", "Tablet"),
            ("iOS", "iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Mobile", "Mobile"),
            ("Android", "Pixel 8", "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari", "Mobile"),
            ("Windows", "Other", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "Desktop"),
            ("Other", "Other", "curl/8", None),
        ],
    )
    def test_device_category(self, os_family: str, device_family: str, text: str, category: str | None) -> None:
        """Bots, tablets, phones and desktops are told apart; anything else is left undecided."""
        assert device_category(os_family, device_family, text) == category


class TestStringBuilder:
    def test_missing_attribute_skips_or_is_replaced(self) -> None:
        """A missing attribute skips the processor, unless `is_replace_missing` makes it an empty string."""
        definition = {"type": "string_builder_processor", "template": "%{a}-%{b}", "target": "t"}
        assert "t" not in run(definition, {"a": "x"}).attributes
        assert run({**definition, "is_replace_missing": True}, {"a": "x"}).attributes["t"] == "x-"

    def test_existing_target_is_overwritten(self) -> None:
        """The result overwrites an existing target (Datadog's page says so)."""
        log = run({"type": "string_builder_processor", "template": "%{a}", "target": "t"}, {"a": 1, "t": "old"})
        assert log.attributes["t"] == "1"

    def test_over_the_limit_is_unknown(self) -> None:
        """A result longer than Datadog's 256 characters is unknown rather than guessed."""
        log = run({"type": "string_builder_processor", "template": "%{a}%{a}", "target": "t"}, {"a": "x" * 200})
        assert "t" not in log.attributes
        assert log.is_unknown("t")

    def test_reserved_message_is_readable(self) -> None:
        """`%{message}` reads the log's message, which is no longer an attribute after preprocessing."""
        log = run({"type": "string_builder_processor", "template": "[%{message}]", "target": "t"}, {}, message="hi")
        assert log.attributes["t"] == "[hi]"

    def test_template_pieces(self) -> None:
        """A template splits into raw text and attribute blocks."""
        assert template_parts("a %{b.c} d") == [("a ", False), ("b.c", True), (" d", False)]


class TestArrayProcessor:
    def test_select_without_match_changes_nothing(self) -> None:
        """When no element matches the condition, the target is not written."""
        definition = {
            "type": "array_processor",
            "operation": {"type": "select", "source": "h", "filter": "name:X", "value_to_extract": "v", "target": "t"},
        }
        assert run(definition, {"h": [{"name": "Y", "v": 1}]}).attributes == {"h": [{"name": "Y", "v": 1}]}

    def test_select_first_matching_element(self) -> None:
        """The first matching element is selected; `@` attribute syntax works in the condition too."""
        definition = {
            "type": "array_processor",
            "operation": {"type": "select", "source": "h", "filter": "@n:>1", "value_to_extract": "v", "target": "t"},
        }
        assert (
            run(definition, {"h": [{"n": 1, "v": "a"}, {"n": 2, "v": "b"}, {"n": 3, "v": "c"}]}).attributes["t"] == "b"
        )

    def test_length_of_a_non_array_is_skipped(self) -> None:
        """Length applies to arrays only."""
        definition = {"type": "array_processor", "operation": {"type": "length", "source": "a", "target": "n"}}
        assert "n" not in run(definition, {"a": "abc"}).attributes

    def test_append_without_preserve_moves_the_source(self) -> None:
        """`preserve_source: false` removes the appended attribute."""
        definition = {
            "type": "array_processor",
            "operation": {"type": "append", "source": "ip", "target": "ips", "preserve_source": False},
        }
        assert run(definition, {"ip": "1.1.1.1", "ips": []}).attributes == {"ips": ["1.1.1.1"]}

    def test_append_to_a_scalar_is_unknown(self) -> None:
        """Appending to a target that is not an array is undocumented, so the target becomes unknown."""
        definition = {"type": "array_processor", "operation": {"type": "append", "source": "ip", "target": "ips"}}
        log = run(definition, {"ip": "1.1.1.1", "ips": "x"})
        assert log.attributes["ips"] == "x"
        assert log.is_unknown("ips")

    def test_key_value_extraction(self) -> None:
        """Key-value extraction writes each element's pair under the target, keeping existing values."""
        definition = {
            "type": "array_processor",
            "operation": {
                "type": "key_value",
                "source": "kv",
                "key_to_extract": "k",
                "value_to_extract": "v",
                "target": "out",
            },
        }
        log = run(definition, {"kv": [{"k": "a", "v": 1}, {"k": "b", "v": 2}, {"v": 3}], "out": {"b": 0}})
        assert log.attributes["out"] == {"a": 1, "b": 0}
        overriding = {**definition, "operation": {**definition["operation"], "override_on_conflict": True}}
        assert run(overriding, {"kv": [{"k": "b", "v": 2}], "out": {"b": 0}}).attributes["out"] == {"b": 2}

    def test_unknown_operation_is_refused(self) -> None:
        """An operation type the provider does not know is a validation error."""
        with pytest.raises(ValidationError):
            PROCESSOR.validate_python({"type": "array_processor", "operation": {"type": "sort", "source": "a"}})


class TestDecoder:
    @pytest.mark.parametrize(
        ("text", "encoding", "representation", "expected"),
        [
            ("aGVsbG8gd29ybGQ=", "base64", "utf_8", "hello world"),
            ("aGVsbG8gd29ybGQ", "base64", "utf_8", "hello world"),
            ("68656c6c6f", "base16", "utf_8", "hello"),
            ("68656c6c6f2", "base16", "utf_8", "hello"),
            ("ff", "base16", "integer", 255),
            ("not base64!", "base64", "utf_8", None),
            ("zz", "base16", "integer", None),
            ("/w==", "base64", "utf_8", None),
        ],
    )
    def test_decodes_as_documented(self, text: str, encoding: str, representation: str, expected: Any) -> None:
        """Base64 and hex decode to UTF-8 (or hex to an integer); truncated input is trimmed or padded, and
        invalid input decodes to nothing."""
        assert decode(text, encoding, representation) == expected

    def test_failure_leaves_the_log_unchanged(self) -> None:
        """Invalid input leaves the log unchanged (Datadog's page: failure handling)."""
        definition = {"type": "decoder_processor", "source": "e", "target": "d", "binary_to_text_encoding": "base64"}
        assert run(definition, {"e": "***"}).attributes == {"e": "***"}
        assert run(definition, {"e": "aGk="}).attributes == {"e": "aGk=", "d": "hi"}

    def test_base64_integer_is_unknown(self) -> None:
        """An integer from base64 is not documented: the target is unknown."""
        definition = {
            "type": "decoder_processor",
            "source": "e",
            "target": "d",
            "binary_to_text_encoding": "base64",
            "input_representation": "integer",
        }
        log = run(definition, {"e": "AQ=="})
        assert "d" not in log.attributes
        assert log.is_unknown("d")

    @settings(max_examples=60, deadline=None)
    @given(st.text(max_size=40), st.sampled_from(["base64", "base16"]))
    def test_never_raises(self, text: str, encoding: str) -> None:
        """Decoding any text either yields a value or nothing."""
        assert decode(text, encoding, "utf_8") is None or isinstance(decode(text, encoding, "utf_8"), str)


class TestRemappersAndExclusion:
    def test_span_id_remapper(self) -> None:
        """The span ID remapper sets the log's span ID from the first source present."""
        log = run({"type": "span_id_remapper", "sources": ["dd.span_id"]}, {"dd": {"span_id": 123}})
        assert log.span_id == "123"

    def test_reserved_attribute_cannot_be_excluded(self) -> None:
        """Reserved attributes are not removed by the exclude attribute processor (Datadog's page)."""
        log = run({"type": "exclude_attribute_processor", "attribute_to_exclude": "timestamp"}, {"timestamp": 1})
        assert log.attributes == {"timestamp": 1}


class TestUnknownOffline:
    def test_reference_table_marks_its_target(self) -> None:
        """A Reference Table lookup with a present source makes its target unknown."""
        definition = {
            "type": "reference_table_lookup_processor",
            "source": "usr.id",
            "target": "usr.team",
            "lookup_enrichment_table": "users",
        }
        assert run(definition, {"usr": {"id": "u1"}}).is_unknown("usr.team")
        assert not run(definition, {}).unknown

    def test_geoip_without_source_marks_nothing(self) -> None:
        """Without an IP to look up, nothing is unknown."""
        assert not run({"type": "geo_ip_parser"}, {"other": 1}).unknown

    def test_unknown_covers_paths_below_only(self) -> None:
        """A path is unknown at or below an unknown path, not beside it."""
        log = record({})
        log.mark_unknown("network.client.geoip")
        assert log.is_unknown("network.client.geoip.country.iso_code")
        assert not log.is_unknown("network.client.geoipx")
        assert not log.is_unknown("network.client.ip")


class TestNestedPipeline:
    RULES = """
        pipelines:
          outer:
            name: outer
            filter: "service:web"
            processors:
              - type: pipeline
                name: ingress only
                filter: "source:nginx"
                processors:
                  - type: url_parser
                    sources: [http.url]
              - type: string_builder_processor
                template: "%{http.method}"
                target: method_copy
    """

    def test_nested_filter_is_applied_before_its_processors(self) -> None:
        """The nested pipeline's processors run only on logs its own filter matches."""
        emulator = Emulator(rules_from_yaml(self.RULES), source="nginx")
        log = emulator.process({"service": "web", "http": {"url": "/a?b=1", "method": "GET"}})
        assert log.attributes["http"]["url_details"] == {"path": "/a", "queryString": {"b": "1"}}
        assert log.attributes["method_copy"] == "GET"
        other = Emulator(rules_from_yaml(self.RULES), source="python")
        assert "url_details" not in other.process({"service": "web", "http": {"url": "/a"}}).attributes["http"]

    def test_disabled_nested_pipeline_does_nothing(self) -> None:
        """A disabled nested pipeline is skipped with all its processors."""
        rules = rules_from_yaml(
            self.RULES.replace("name: ingress only", "name: ingress only\n                enabled: false")
        )
        log = Emulator(rules, source="nginx").process({"service": "web", "http": {"url": "/a"}})
        assert "url_details" not in log.attributes["http"]


class TestArrayMap:
    def test_in_place_keeps_elements_beyond_the_limit(self) -> None:
        """With source equal to target, elements change in place, and only the first 50 are processed."""
        definition = {
            "type": "array_map_processor",
            "source": "items",
            "target": "items",
            "processors": [
                {"type": "arithmetic_processor", "expression": "$sourceElem.n * 2", "target": "$targetElem.n"}
            ],
        }
        log = run(definition, {"items": [{"n": i} for i in range(52)]})
        assert log.attributes["items"][49] == {"n": 98}
        assert log.attributes["items"][50:] == [{"n": 50}, {"n": 51}]

    def test_source_removed_unless_preserved(self) -> None:
        """`preserve_source: false` removes the source array once the target is built."""
        definition = {
            "type": "array_map_processor",
            "source": "items",
            "target": "out",
            "preserve_source": False,
            "processors": [{"type": "attribute_remapper", "sources": ["$sourceElem"], "target": "$targetElem"}],
        }
        assert run(definition, {"items": [1, 2]}).attributes == {"out": [1, 2]}

    def test_sub_processor_does_not_touch_the_parent_log(self) -> None:
        """A sub-processor moving a parent attribute changes only the element it builds."""
        definition = {
            "type": "array_map_processor",
            "source": "items",
            "target": "out",
            "processors": [{"type": "attribute_remapper", "sources": ["http.method"], "target": "$targetElem.m"}],
        }
        log = run(definition, {"http": {"method": "GET"}, "items": [1, 2]})
        assert log.attributes["http"] == {"method": "GET"}
        assert log.attributes["out"] == [{"m": "GET"}, {"m": "GET"}]

    @pytest.mark.parametrize(
        ("sub", "message"),
        [
            ({"type": "string_builder_processor", "template": "%{a}", "target": "out"}, "starts with `.targetElem`"),
            (
                {"type": "attribute_remapper", "sources": ["env"], "source_type": "tag", "target": "$targetElem.e"},
                "not tags",
            ),
            (
                {"type": "string_builder_processor", "template": "%{a}", "target": "$targetElem", "enabled": False},
                "cannot be disabled",
            ),
        ],
    )
    def test_sub_processors_the_provider_cannot_take_are_refused(self, sub: dict[str, Any], message: str) -> None:
        """Targets outside `$targetElem`, tag remapping and disabled sub-processors are validation errors."""
        with pytest.raises(ValidationError, match=message):
            PROCESSOR.validate_python(
                {"type": "array_map_processor", "source": "a", "target": "b", "processors": [sub]}
            )
