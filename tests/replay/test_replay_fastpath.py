"""Replay's fast path against the plain path: the same report on generated traffic, and its fallbacks."""

from __future__ import annotations

import textwrap
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from replay_testing import shipped_rules

from logmon.evaluation import fastpath
from logmon.evaluation.fastpath import CACHE_SIZE, FieldUse
from logmon.replay import Replay
from logmon.rules.loader import RuleSet, rules_from_text

EXERCISING = """
pipelines:
  edge:
    name: edge
    filter: "source:nginx"
    processors:
      - {type: string_builder_processor, template: "%{user}-edge", target: region}
  app:
    name: app
    filter: "@logger:* OR service:web"
    processors:
      - {type: status_remapper, sources: [level]}
      - {type: date_remapper, sources: [timestamp]}
      - {type: attribute_remapper, sources: [user], target: usr.id}
      - {type: attribute_remapper, sources: [code], target: http.status_code, target_format: integer}
      - {type: arithmetic_processor, target: duration, expression: "took_ms * 1000000"}
      - {type: lookup_processor, source: region, target: geo.zone, lookup_table: {eu: west, us: east}}
      - type: category_processor
        target: kind
        categories:
          - {name: slow, filter: "@took_ms:>=250"}
          - {name: failed, filter: "@http.status_code:[500 TO 599]"}
          - {name: other, filter: "*"}
indexes:
  urgent:
    filter: "status:(error OR critical) OR @kind:failed"
  bulk:
    filter: "*"
    exclusion_filters:
      - {name: by-request, filter: "@request_id:* -timeout", sample_rate: 0.5, sample_attribute: "@request_id"}
      - {name: rest, filter: "env:staging OR -@request_id:*", sample_rate: 0.7}
metrics:
  app.requests:
    filter: "@http.status_code:>=400"
    compute: count
    group_by: ["@usr.id", "@geo.zone"]
  app.duration:
    filter: "@kind:*"
    compute: distribution
    path: "@duration"
    include_percentiles: true
    group_by: ["@kind"]
  app.staging:
    filter: "env:staging source:app"
    compute: count
  app.amount:
    filter: "@amount:{10 TO 100}"
    compute: distribution
    path: "@amount"
sensitive_data:
  name: scanner
  filter: "@logger:*"
  excluded_namespaces: [request_id]
  rules:
    secret:
      name: secret
      regex: "u2|timeout|9"
      replacement: {type: replacement_string, replacement_string: "[x]"}
monitors:
  timeouts:
    name: timeouts
    search: "timeout OR \\"connection reset\\""
    window: 2m
    threshold: {critical: 3}
  failures_by_user:
    name: failures by user
    search: "@http.status_code:>=500"
    group_by: ["@usr.id"]
    window: 3m
    threshold: {critical: 2}
  distinct_users:
    name: distinct users
    search: "@kind:(slow OR failed)"
    rollup: cardinality
    measure: "@usr.id"
    window: 5m
    threshold: {critical: 4}
  mean_took:
    name: mean took
    search: "-@flag:true @took_ms:*"
    rollup: avg
    measure: "@took_ms"
    group_by: [service]
    indexes: [bulk]
    window: 1m
    threshold: {critical: 300}
"""


def exercising_rules() -> RuleSet:
    return rules_from_text(textwrap.dedent(EXERCISING), "inline.yaml")


def same_report(rules: RuleSet, lines: list[bytes]) -> None:
    """Both paths give the same report (counts, metrics, monitors, cost, input kinds) and charts' hours."""
    fast = Replay(rules, count_hours=True)
    plain = Replay(rules, fast=False, count_hours=True)
    assert fast.fast_path is not None
    assert fast.run(lines) == plain.run(lines)
    assert fast.part.hours is not None
    assert plain.part.hours is not None
    assert vars(fast.part.hours) == vars(plain.part.hours)


LEVELS = st.sampled_from(["info", "error", "warn", "critical", "debug", 3, None])
SMALL_NUMBERS = st.one_of(st.sampled_from([0, 1, 200, 404, 500, 503, 250, 99.5, 100, 10]), st.booleans())
ANY_NUMBER = st.one_of(st.integers(-(2**40), 2**40), st.floats(allow_nan=False, allow_infinity=False), st.booleans())
WORDS = st.sampled_from(["ok", "timeout", "connection", "reset", "Timeout!", "slow", "done"])
MESSAGES = st.lists(WORDS, max_size=4).map(" ".join)
SECOND = st.integers(0, 600)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3))


@st.composite
def dates(draw: st.DrawFn, second: int) -> Any:
    fraction = draw(st.integers(0, 999_999))
    return draw(
        st.sampled_from(
            [
                f"2026-01-05T10:{second // 60:02d}:{second % 60:02d}.{fraction:06d}Z",
                f"2026-01-05T10:{second // 60:02d}:{second % 60:02d}Z",
                1_767_607_200_000 + second * 1000,
                "not a date",
                None,
            ]
        )
    )


@st.composite
def raw_logs(draw: st.DrawFn) -> dict[str, Any]:
    """A log with low-cardinality deciding fields, high-cardinality ones, numbers of every JSON type,
    nested objects, nulls, absent keys and now and then a flat dotted key."""
    second = draw(SECOND)
    fields: dict[str, Any] = {
        "logger": draw(st.sampled_from(["app", None])),
        "service": draw(st.sampled_from(["web", "api", 7])),
        "env": draw(st.sampled_from(["prod", "staging"])),
        "level": draw(LEVELS),
        "message": draw(MESSAGES),
        "timestamp": draw(dates(second)),
        "code": draw(st.one_of(SMALL_NUMBERS, st.sampled_from(["500", "oops"]))),
        "took_ms": draw(st.one_of(SMALL_NUMBERS, ANY_NUMBER)),
        "amount": draw(st.one_of(SMALL_NUMBERS, ANY_NUMBER, st.just({"value": 5}))),
        "user": draw(st.one_of(st.sampled_from(["u1", "u2", "u3"]), st.text(min_size=1, max_size=8))),
        "region": draw(st.sampled_from(["eu", "us", "ap", 1])),
        "request_id": draw(st.one_of(st.text(max_size=10), st.none())),
        "flag": draw(SCALARS),
        "extra": draw(st.one_of(SCALARS, st.dictionaries(st.sampled_from(["a", "b.c"]), SCALARS, max_size=2))),
        "http.method": draw(st.sampled_from(["GET", "POST"])),
        "took_ms.unit": "ms",
        "syslog": {"timestamp": "2026-01-05T11:00:00Z"},
        "ddsource": draw(st.sampled_from(["nginx", "app", 5, None])),
        "ddtags": draw(st.sampled_from(["env:staging", "env:prod,team:a", " ", ["env:staging", 3], None])),
    }
    keys = draw(st.lists(st.sampled_from(sorted(fields)), unique=True, min_size=3))
    return {key: fields[key] for key in keys}


def encoded(logs: list[dict[str, Any]]) -> list[bytes]:
    return [orjson.dumps(log) + b"\n" for log in logs]


TEMPLATES = st.lists(raw_logs(), min_size=1, max_size=6)


@st.composite
def traffic(draw: st.DrawFn) -> list[bytes]:
    """Repeats of a few templates (so plans get reused) with per-log values redrawn, plus odd lines."""
    templates = draw(TEMPLATES)
    lines: list[bytes] = []
    for _ in range(draw(st.integers(1, 60))):
        log = dict(draw(st.sampled_from(templates)))
        second = draw(SECOND)
        for key, strategy in (
            ("timestamp", dates(second)),
            ("request_id", st.text(max_size=10)),
            ("took_ms", ANY_NUMBER),
            ("message", MESSAGES),
            ("user", st.text(max_size=4)),
            ("ddtags", st.sampled_from(["env:staging", "env:prod", None])),
            ("ddsource", st.sampled_from(["nginx", "app", None])),
        ):
            if key in log and draw(st.booleans()):
                log[key] = draw(strategy)
        lines.extend(encoded([log]))
    lines.extend(draw(st.lists(st.sampled_from([b"\n", b"not json\n", b"[1]\n"]), max_size=2)))
    return lines


class TestSameReport:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(traffic())
    def test_exercising_rules_report_the_same_either_way(self, lines: list[bytes]) -> None:
        """Free text, numeric ranges, high-cardinality group-bys and measures, processor-written fields and
        attribute sampling: the fast path reports exactly what the plain path does."""
        same_report(exercising_rules(), lines)

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(traffic())
    def test_shipped_rules_report_the_same_either_way(self, lines: list[bytes]) -> None:
        """The shipped rules on generated traffic: the same report on both paths."""
        same_report(shipped_rules(), lines)

    def test_simulated_service_reports_the_same_and_reuses_plans(self) -> None:
        """The simulated service's logs decide through a handful of plans, with the plain path's report."""
        from logmon.simulate import STEADY, simulate

        lines = list(simulate(12, STEADY))
        fast = Replay(shipped_rules())
        assert fast.run(lines) == Replay(shipped_rules(), fast=False).run(lines)
        assert fast.fast_path is not None
        assert 0 < fast.fast_path.planned < 40


class TestBounded:
    def test_unrepeated_values_keep_the_cache_bounded(self) -> None:
        """A deciding field that never repeats neither grows the cache past its cap nor changes the report."""
        rules = exercising_rules()
        lines = encoded(
            [
                {"logger": "app", "user": f"user-{n}", "code": 500, "timestamp": 1_767_607_200_000 + n}
                for n in range(3000)
            ]
        )
        fast = Replay(rules)
        assert fast.run(lines) == Replay(rules, fast=False).run(lines)
        assert fast.fast_path is not None
        assert fast.fast_path.planned <= CACHE_SIZE


class TestFallback:
    def test_search_over_every_attribute_has_no_fast_path(self) -> None:
        """`*:term` reads every attribute, so no key can capture it: replay takes the plain path."""
        rules = rules_from_text(
            textwrap.dedent(
                """
                metrics:
                  anything:
                    filter: "*:timeout"
                    compute: count
                """
            ),
            "inline.yaml",
        )
        assert Replay(rules).fast_path is None

    def test_date_remapper_on_another_key_has_no_fast_path(self) -> None:
        """A date read from elsewhere than `timestamp` depends on which pipelines ran: plain path."""
        rules = rules_from_text(
            textwrap.dedent(
                """
                pipelines:
                  p:
                    name: p
                    processors:
                      - {type: date_remapper, sources: [ts]}
                """
            ),
            "inline.yaml",
        )
        assert Replay(rules).fast_path is None

    def test_processor_inputs_decide_when_their_output_does(self) -> None:
        """A remapper feeding a filtered attribute makes its source deciding; a key only tested for presence
        and a measure nothing writes are not deciding (the shape and a per-log read cover them)."""
        use = FieldUse.of(exercising_rules())
        assert {"code", "user", "took_ms", "level", "message", "env"} <= set(use.deciding)
        assert "logger" not in use.deciding
        assert "request_id" in use.per_log
        assert "request_id" not in use.deciding

    def test_intake_fields_decide_for_source_and_tags(self) -> None:
        """`ddsource` decides where `source` is read, `ddtags` where tags are."""
        use = FieldUse.of(exercising_rules())
        assert {"ddsource", "ddtags"} <= set(use.deciding)

    def test_unknown_pipeline_goes_plain_by_its_filter(self) -> None:
        """A pipeline the analysis cannot enumerate leaves its filter to decide which keys go plain."""
        rules = exercising_rules()
        assert FieldUse.of(rules).opaque == ("source:nginx",)
        lines = encoded([{"logger": "app", "ddsource": "nginx", "user": "u1", "region": "eu"}] * 3)
        fast = Replay(rules)
        assert fast.run(lines) == Replay(rules, fast=False).run(lines)
        assert fast.fast_path is not None
        plans = [plan for shape in fast.fast_path._shapes.values() for plan in shape.plans.values()]
        assert [plan.plain for plan in plans] == [True]

    def test_unknown_pipeline_over_a_written_field_has_no_fast_path(self) -> None:
        """An unknown pipeline whose filter reads what another processor writes cannot be keyed: plain path."""
        rules = rules_from_text(
            textwrap.dedent(
                """
                pipelines:
                  first:
                    name: first
                    processors:
                      - {type: attribute_remapper, sources: [a], target: b}
                  second:
                    name: second
                    filter: "@b:x"
                    processors:
                      - {type: string_builder_processor, template: "%{a}", target: c}
                """
            ),
            "inline.yaml",
        )
        assert Replay(rules).fast_path is None

    def test_scanner_tags_read_by_a_rule_have_no_fast_path(self) -> None:
        """The scanner tags a log by what any scanned value holds, so a rule reading tags takes the plain
        path; without tag reads, the scanned measures go plain per log when they hold text."""
        scanner = """
            sensitive_data:
              name: s
              filter: "*"
              rules:
                card:
                  name: card
                  regex: "4[0-9]{3}"
                  replacement: {type: hash}
                  tags: ["sensitive_data:card"]
        """
        reads_tags = (
            scanner
            + """
            metrics:
              cards:
                filter: "sensitive_data:card"
                compute: count
        """
        )
        assert Replay(rules_from_text(textwrap.dedent(reads_tags), "inline.yaml")).fast_path is None
        measured = (
            scanner
            + """
            metrics:
              amounts:
                filter: "@kind:pay"
                compute: distribution
                path: "@amount"
        """
        )
        rules = rules_from_text(textwrap.dedent(measured), "inline.yaml")
        assert FieldUse.of(rules).scanned == frozenset({"amount"})
        lines = encoded([{"kind": "pay", "amount": value} for value in (4111, "4111", "4111 4111", 12.5, "7")])
        same_report(rules, lines * 2)


MEASURING = """
indexes:
  main:
    filter: "*"
    exclusion_filters:
      - {name: by-request, filter: "@kind:routine", sample_rate: 0.5, sample_attribute: "@request_id"}
      - {name: by-line, filter: "@kind:bulk", sample_rate: 0.6}
metrics:
  latency:
    filter: "@kind:*"
    compute: distribution
    path: "@latency"
    include_percentiles: true
    group_by: ["@kind"]
sensitive_data:
  name: scanner
  filter: "*"
  rules:
    digits:
      name: digits
      regex: "[0-9]{3}"
      replacement: {type: replacement_string, replacement_string: "[n]"}
monitors:
  slow:
    name: slow
    search: "@kind:*"
    rollup: pc90
    measure: "@latency"
    group_by: ["@kind"]
    window: 2m
    threshold: {critical: 100}
  users:
    name: users
    search: "@kind:(routine OR bulk)"
    rollup: cardinality
    measure: "@user"
    window: 3m
    threshold: {critical: 5}
"""
"""Measures and sampling keys read per log (no rule decides on them), the scanner over them, and a
cardinality of text values: what the fast path counts per distinct value at a flush."""

PER_LOG_VALUES = st.one_of(
    ANY_NUMBER,
    st.none(),
    st.sampled_from(["12", "1234", "", "x"]),
    st.lists(st.one_of(st.integers(-3, 3), st.floats(-10, 10), st.booleans()), max_size=3),
    st.dictionaries(st.sampled_from(["a", "b.c"]), SCALARS, max_size=2),
)


@st.composite
def measured_traffic(draw: st.DrawFn) -> list[bytes]:
    """A few kinds of log, each line with its own date, latency, user and request ID of any JSON type."""
    lines = []
    for _ in range(draw(st.integers(1, 80))):
        log: dict[str, Any] = {"kind": draw(st.sampled_from(["routine", "bulk", "audit"]))}
        for key, values in (
            ("timestamp", dates(draw(SECOND))),
            ("latency", PER_LOG_VALUES),
            ("user", PER_LOG_VALUES),
            ("request_id", PER_LOG_VALUES),
        ):
            if draw(st.integers(0, 5)):
                log[key] = draw(values)
        lines.extend(encoded([log]))
    return lines


class TestPerLogValues:
    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(measured_traffic())
    def test_values_counted_together_report_as_counted_one_by_one(self, lines: list[bytes]) -> None:
        """Measures, cardinalities and sampling keys of every JSON type (booleans, which equal 1 in Python,
        objects and arrays included) report the same on the fast path, which counts equal values together."""
        same_report(rules_from_text(textwrap.dedent(MEASURING), "inline.yaml"), lines)

    def test_counted_values_are_flushed_when_a_batch_ends(self) -> None:
        """After a batch of lines, nothing is left in the plans: the part holds every count."""
        rules = rules_from_text(textwrap.dedent(MEASURING), "inline.yaml")
        lines = encoded([{"kind": "audit", "timestamp": "2026-01-05T10:00:01.000000Z", "latency": 5}] * 50)
        fast = Replay(rules)
        fast.accumulate(lines)
        assert fast.fast_path is not None
        plans = [plan for shape in fast.fast_path._shapes.values() for plan in shape.plans.values()]
        assert len(plans) == 1
        assert (plans[0].rows, plans[0].kept_minutes, plans[0].dropped) == ([], {}, 0)
        assert fast.report() == Replay(rules, fast=False).run(lines)


class TestDates:
    @pytest.mark.parametrize(
        "date",
        [
            "2026-01-05T10:00:59.999999Z",
            "2026-01-05T10:00:60.000000Z",
            "2026-01-05T24:00:00.000000Z",
            "2026-02-30T10:00:00.000000Z",
            "1969-12-31T23:59:59.000000Z",
            "1970-01-01T00:00:00.000000Z",
            "9999-12-31T23:59:59.000000Z",
            "9999-12-31T23:59:59.500000Z",
            "2026-01-05T10:00:00.00000٣Z",
            " 2026-01-05T10:00:00.000000Z",
            "2026-01-05T10:0:00.000000ZZ",
            "2026-01-05T10:00:00.000000z",
        ],
    )
    def test_every_date_form_places_the_log_as_the_plain_path_does(self, date: str) -> None:
        """Dates the minute cache takes, and edge cases it must leave to the parser, give the same report."""
        rules = rules_from_text(textwrap.dedent(MEASURING), "inline.yaml")
        logs = [
            {"kind": "audit", "timestamp": "2026-01-05T09:59:00.000000Z", "latency": 1},
            {"kind": "audit", "timestamp": date, "latency": 2},
            {"kind": "audit", "timestamp": date[:16] + ":30.000000Z", "latency": 3},
            {"kind": "audit", "timestamp": date, "latency": 4},
        ]
        same_report(rules, encoded(logs * 3))

    def test_the_minute_cache_stays_bounded(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Past its size the date cache starts over, and the report is still the plain path's."""
        monkeypatch.setattr(fastpath, "MINUTES_CACHED", 3)
        rules = rules_from_text(textwrap.dedent(MEASURING), "inline.yaml")
        logs = [{"kind": "audit", "timestamp": f"2026-01-05T10:{m:02d}:07.000000Z", "latency": m} for m in range(10)]
        fast = Replay(rules)
        fast.accumulate(encoded(logs * 2))
        assert fast.fast_path is not None
        assert 0 < len(fast.fast_path._minutes) <= 3
        assert fast.report() == Replay(rules, fast=False).run(encoded(logs * 2))
