"""The whole stream: intake, index counts, what monitors may see, and dispatch by event type.

The dispatch property compares `Evaluation` (which tests each log only against the queries its event type
can match) with a brute-force evaluation that tests every log against every query, minute by minute.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from typing import Any

import orjson
import pytest
from evaluation_testing import T0, raw_line, rules_from_yaml, shipped_rules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logmon.evaluation import Evaluation, Ingested, Intake, MonitorEvaluator
from logmon.evaluation.facets import facet_reader, group_value
from logmon.evaluation.monitors import ALL_GROUPS, MonitorBuckets
from logmon.logrecord import MISSING
from logmon.queries import monitor_query
from logmon.rules.loader import RuleSet
from logmon.search import compile_query, parse
from paylog.catalogue import CATALOGUE, iter_samples
from paylog.render import render

CUSTOM = """
    indexes:
      flex:
        filter: "@event_type:cache_operation"
        flex_only: true
      security:
        filter: "@event_category:security"
      main:
        filter: "*"
        exclusion_filters:
          - name: drop-debug
            filter: "status:debug"
            sample_rate: 1.0
          - name: sample-info
            filter: "status:info -@event_type:(payment_completion OR fraud_detection)"
            sample_rate: 0.5
            sample_attribute: "@correlation_id"
    monitors:
      failed_payments:
        name: failed payments
        search: "@event_type:payment_completion @payment_status:failed"
        window: 3m
        threshold: {critical: 2, warning: 1}
      two_types:
        name: two types
        search: "@event_type:(fraud_detection OR authentication_attempt)"
        window: 2m
        threshold: {critical: 2}
      any_problem:
        name: any problem
        search: "status:(error OR warning)"
        window: 3m
        threshold: {critical: 3}
      not_api:
        name: not api
        search: "-@event_type:api_request"
        window: 1m
        threshold: {critical: 4}
      top_level_or:
        name: top-level or
        search: "@event_type:api_request OR @event_type:kyc_verification"
        window: 2m
        threshold: {critical: 3}
      wildcard:
        name: wildcard
        search: "@event_type:payment_*"
        window: 2m
        threshold: {critical: 2}
      numeric:
        name: numeric
        search: "@event_type:5"
        window: 1m
        threshold: {comparator: ">=", critical: 1}
      contradictory:
        name: contradictory
        search: "@event_type:api_request @event_type:kyc_verification"
        window: 1m
        threshold: {comparator: ">=", critical: 1}
      by_status_code:
        name: by status code
        search: "@event_type:(api_request OR external_service_call)"
        group_by: ["@http.status_code"]
        window: 2m
        threshold: {critical: 1}
      distinct_users:
        name: distinct users
        search: "@event_type:authentication_attempt"
        rollup: cardinality
        measure: "@usr.id"
        window: 3m
        threshold: {critical: 1}
      security_only:
        name: security only
        search: "*"
        indexes: [security]
        window: 2m
        threshold: {critical: 2}
      every_log:
        name: every log
        search: "*"
        window: 1m
        threshold: {critical: 5}
    metrics:
      m.completions:
        filter: "@event_type:payment_completion"
        compute: count
        group_by: ["@payment_status"]
      m.types:
        filter: "*"
        compute: count
        group_by: ["@event_type", "status"]
      m.two:
        filter: "@event_type:(fraud_detection OR authentication_attempt)"
        compute: count
      m.numeric:
        filter: "@event_type:5"
        compute: count
      m.response:
        filter: "@event_type:api_request"
        compute: distribution
        path: "@response_time_ms"
"""


def custom_rules() -> RuleSet:
    """The custom indexes, monitors and metrics above, behind the shipped pipeline."""
    custom = rules_from_yaml(CUSTOM)
    return replace(custom, pipelines=shipped_rules().pipelines)


RULES = custom_rules()

ODD_LINES: list[dict[str, Any]] = [
    {"event_type": 5, "level": "error", "logger": "x"},
    {"event_type": ["api_request", "kyc_verification"], "level": "info", "logger": "x"},
    {"event_type": ["payment_completion"], "payment_status": "failed", "logger": "x"},
    {"level": "warning", "message": "a plain line"},
    {"event_type": "Payment_Completion", "payment_status": "failed", "logger": "x"},
    {"event_type": None, "level": "error"},
    {"event_type": {"name": "api_request"}, "level": "error"},
]
TEMPLATES: list[bytes] = [
    orjson.dumps(render(event, sample, logger_name="payments.api"))
    for event, spec in CATALOGUE.items()
    for sample in iter_samples(spec)
] + [orjson.dumps(line) for line in ODD_LINES]

STREAMS = st.lists(
    st.tuples(
        st.integers(0, len(TEMPLATES) - 1),
        st.sampled_from([0, 0, 0, 1, 2, 7]),
        st.integers(0, 59),
        st.integers(0, 5),
    ),
    min_size=1,
    max_size=40,
)


def make_line(template: bytes, minute: int, second: int, correlation: int) -> dict[str, Any]:
    line: dict[str, Any] = orjson.loads(template)
    line["timestamp"] = (minute * 60 + second) * 1000
    line["correlation_id"] = f"req-{correlation}"
    return line


def run_stream(
    rules: RuleSet, stream: list[tuple[int, int, int, int]]
) -> tuple[Evaluation, list[tuple[int, Ingested]]]:
    intake, evaluation = Intake(rules), Evaluation(rules, keep_timeline=True)
    minute = T0
    fed: list[tuple[int, Ingested]] = []
    for number, (template, step, second, correlation) in enumerate(stream):
        minute += step
        ingested = intake.ingest(make_line(TEMPLATES[template], minute, second, correlation), str(number).encode())
        evaluation.feed(ingested)
        fed.append((minute, ingested))
    evaluation.finish()
    return evaluation, fed


def brute_force_values(
    rules: RuleSet, slug: str, fed: list[tuple[int, Ingested]], boundary: int
) -> dict[tuple[str, ...], float]:
    """What the monitor sees at `boundary`, testing every log in the window against its query."""
    query = monitor_query(rules.monitors[slug])
    matches = compile_query(parse(query.search))
    grouping = MonitorBuckets(query)
    groups: dict[tuple[str, ...], list[Ingested]] = defaultdict(list)
    for minute, item in fed:
        visible = item.indexed and item.decision.may_be_indexed
        in_index = "*" in query.indexes or item.decision.index in query.indexes
        if boundary - query.window_minutes <= minute < boundary and visible and in_index and matches(item.record):
            for key in grouping.group_keys(item.record):
                groups[key].append(item)
    if query.rollup == "count":
        values = {key: float(len(items)) for key, items in groups.items()}
    else:
        assert query.rollup == "cardinality"
        assert query.measure is not None
        measure = facet_reader(query.measure)
        values = {
            key: float(len({group_value(measure(i.record)) for i in items if measure(i.record) not in (MISSING, None)}))
            for key, items in groups.items()
        }
    if not query.group_by:
        values.setdefault((), 0.0)
    elif not values:
        values[(ALL_GROUPS,) * len(query.group_by)] = 0.0  # no log for any group: one evaluation of 0
    return values


def expected_intervals(evaluator: MonitorEvaluator, states: dict[int, dict[tuple[str, ...], bool]]) -> list[Any]:
    """Alert intervals (group, start, end) from alerting flags per boundary."""
    open_since: dict[tuple[str, ...], int] = {}
    intervals: list[Any] = []
    for boundary in sorted(states):
        alerting = {key for key, alert in states[boundary].items() if alert}
        for key in sorted(alerting - open_since.keys()):
            open_since[key] = boundary
            intervals.append([key, boundary * 60, None])
        for key in list(open_since):
            if key not in alerting:
                start = open_since.pop(key)
                next(i for i in intervals if i[0] == key and i[1] == start * 60)[2] = boundary * 60
    return sorted(((evaluator.group_names(key), start, end) for key, start, end in intervals), key=repr)


class TestDispatchByEventType:
    @given(STREAMS)
    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def test_monitors_match_a_brute_force_evaluation(self, stream: list[tuple[int, int, int, int]]) -> None:
        """Every monitor's value at every boundary, and its alert intervals, equal testing every query on every log."""
        evaluation, fed = run_stream(RULES, stream)
        first, last = fed[0][0], fed[-1][0]
        for slug, evaluator in evaluation.monitors.items():
            timeline = evaluator.timeline
            assert timeline is not None
            boundaries = sorted(timeline)
            if boundaries:  # from the minute after the first log, every minute, until the windows drain
                assert boundaries == list(range(first + 1, boundaries[-1] + 1))
            if last > first:
                assert boundaries[-1] >= last
            assert evaluator.idle
            states: dict[int, dict[tuple[str, ...], bool]] = {}
            first_seen: dict[tuple[str, ...], int] = {}
            for boundary in boundaries:
                expected = brute_force_values(RULES, slug, fed, boundary)
                assert {key: r.value for key, r in timeline[boundary].items()} == expected, (slug, boundary - T0)
                for key in expected:
                    first_seen.setdefault(key, boundary)
                delayed = {  # a new group is first evaluated new_group_delay (one minute) after it appears
                    key
                    for key in expected
                    if evaluator.group_facets and ALL_GROUPS not in key and first_seen[key] == boundary
                }
                states[boundary] = {
                    key: key not in delayed and evaluator.compare(v, evaluator.critical) for key, v in expected.items()
                }
            got = sorted(((i.group, i.start, i.end) for i in evaluator.intervals), key=repr)
            assert got == expected_intervals(evaluator, states), slug

    @given(STREAMS)
    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def test_metrics_and_index_counts_match_a_brute_force_count(self, stream: list[tuple[int, int, int, int]]) -> None:
        """Metric counts and distributions, and index counts, equal testing every filter on every log."""
        evaluation, fed = run_stream(RULES, stream)
        for name, metric in RULES.metrics.items():
            matches = compile_query(parse(metric.filter))
            readers = [facet_reader(group.path) for group in metric.group_bys()]
            selected = [item.record for _, item in fed if matches(item.record)]
            aggregator = evaluation.metrics[name]
            if metric.path is None:
                expected = Counter(tuple(group_value(read(r)) for read in readers) for r in selected)
                assert aggregator.counts == dict(expected), name
            else:
                values = [v for r in selected if type(v := facet_reader(metric.path)(r)) in (int, float)]
                summary = aggregator.report()
                assert summary["count"] == len(values), name
                assert summary["sum"] == pytest.approx(sum(values)), name
        for index in RULES.indexes:
            routed = [item for _, item in fed if item.decision.index == index]
            counts = evaluation.indexes[index]
            assert (counts.matched, counts.indexed, counts.excluded) == (
                len(routed),
                sum(item.indexed for item in routed),
                sum(not item.indexed for item in routed),
            )
        assert evaluation.events == len(fed)
        assert evaluation.unrouted == sum(item.decision.index is None for _, item in fed)

    @pytest.mark.parametrize("odd", range(len(ODD_LINES)))
    def test_odd_event_types_are_matched_like_any_log(self, odd: int) -> None:
        """Numbers, arrays, objects, null and other spellings of `event_type` reach exactly the queries they match."""
        template = len(TEMPLATES) - len(ODD_LINES) + odd
        stream = [(template, 0, 0, 0), (template, 0, 30, 1), (template, 1, 0, 2)]
        evaluation, fed = run_stream(RULES, stream)
        for slug, evaluator in evaluation.monitors.items():
            assert evaluator.timeline is not None
            for boundary, results in evaluator.timeline.items():
                expected = brute_force_values(RULES, slug, fed, boundary)
                assert {key: r.value for key, r in results.items()} == expected, (slug, ODD_LINES[odd])


VISIBILITY_RULES = """
indexes:
  flex:
    filter: "@kind:flex"
    flex_only: true
  audit:
    filter: "@kind:audit"
  main:
    filter: "@kind:*"
    exclusion_filters:
      - name: drop-all-noise
        filter: "@noise:true"
        sample_rate: 1.0
monitors:
  everything:
    name: everything
    search: "*"
    window: 1m
    threshold: {critical: 100}
  audit_only:
    name: audit only
    search: "*"
    indexes: [audit]
    window: 1m
    threshold: {critical: 100}
metrics:
  all.logs:
    filter: "*"
    compute: count
    group_by: ["@kind"]
"""


@pytest.fixture(scope="module")
def visibility() -> Evaluation:
    """Five logs in one minute: flex, audit, main, main excluded, and one no index takes."""
    rules = rules_from_yaml(VISIBILITY_RULES)
    intake, evaluation = Intake(rules), Evaluation(rules, keep_timeline=True)
    lines = [
        raw_line(None, T0, kind="flex"),
        raw_line(None, T0, kind="audit"),
        raw_line(None, T0, kind="main"),
        raw_line(None, T0, kind="main", noise=True),
        raw_line(None, T0),
    ]
    for number, line in enumerate(lines):
        evaluation.feed(intake.ingest(line, str(number).encode()))
    evaluation.finish()
    return evaluation


class TestWhatMonitorsSee:
    def test_monitors_see_only_kept_standard_logs(self, visibility: Evaluation) -> None:
        """Flex-only, excluded and unrouted logs are invisible to monitors."""
        timeline = visibility.monitors["everything"].timeline
        assert timeline is not None
        assert timeline[T0 + 1][()].value == 2

    def test_monitor_index_restriction(self, visibility: Evaluation) -> None:
        """A monitor on named indexes counts logs of those indexes only."""
        timeline = visibility.monitors["audit_only"].timeline
        assert timeline is not None
        assert timeline[T0 + 1][()].value == 1

    def test_metrics_count_every_ingested_log(self, visibility: Evaluation) -> None:
        """Log-based metrics count flex, excluded and unrouted logs too."""
        assert visibility.metrics["all.logs"].counts == {("flex",): 1, ("audit",): 1, ("main",): 2, ("N/A",): 1}

    def test_index_counts(self, visibility: Evaluation) -> None:
        """Each index counts what it matched, kept and excluded; unrouted logs are counted apart."""
        counts = {name: (c.matched, c.indexed, c.excluded) for name, c in visibility.indexes.items()}
        assert counts == {"flex": (1, 1, 0), "audit": (1, 1, 0), "main": (2, 1, 1)}
        assert (visibility.unrouted, visibility.events) == (1, 5)

    def test_intake_reports_the_decision(self) -> None:
        """Intake returns the processed record, its index decision and whether it was kept."""
        rules = rules_from_yaml(VISIBILITY_RULES)
        ingested = Intake(rules).ingest(raw_line(None, T0, kind="main", noise=True, level="error"), b"k")
        assert (ingested.record.status, ingested.decision.index, ingested.decision.exclusion) == (
            "error",
            "main",
            "drop-all-noise",
        )
        assert ingested.indexed is False
