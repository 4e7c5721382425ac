"""Monitors as deployed: below-threshold alerts on silence, array and multi-valued groups, the full window,
missing data, and the delay before a new group is evaluated (docs/rule-tests.md, "Monitor options")."""

from __future__ import annotations

import math
import random
from typing import Any

import orjson
from evaluation_testing import T0, log, monitor, raw_line, rules_from_yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from logmon.evaluation import Evaluation, Intake, MonitorEvaluator, State
from logmon.evaluation.sketch import ExactSum, Sketch
from logmon.queries import MonitorOptions
from logmon.replay import Replay
from logmon.search.monitor_query import parse_monitor_query

SILENCE = """
    indexes: {main: {filter: "*"}}
    monitors:
      heartbeat:
        name: heartbeat
        search: "@event_type:heartbeat"
        window: 2m
        threshold: {comparator: "<", critical: 1}
      heartbeat_by_region:
        name: heartbeat by region
        search: "@event_type:heartbeat"
        group_by: ["@region"]
        window: 2m
        threshold: {comparator: "<", critical: 1}
"""


def deployed(query: str, warning: float | None = None, **options: Any) -> MonitorEvaluator:
    return MonitorEvaluator("under_test", parse_monitor_query(query), warning, True, MonitorOptions(**options))


class TestBelowThresholdOnSilence:
    def test_replay_alerts_when_nothing_matches(self) -> None:
        """A `< 1` monitor whose logs never come alerts in replay, as it does in rule tests."""
        rules = rules_from_yaml(SILENCE)
        lines = [orjson.dumps(raw_line("other", T0 + minute)) for minute in range(6)]
        report = Replay(rules).run(lines)
        alerts = report["monitors"]["heartbeat"]["alerts"]
        assert report["monitors"]["heartbeat"]["fired"]
        assert alerts[0]["group"] == {}
        evaluation = Evaluation(rules, keep_timeline=True)
        intake = Intake(rules)
        for number, line in enumerate(lines):
            evaluation.feed(intake.ingest(orjson.loads(line), str(number).encode()))
        evaluation.finish()
        heartbeat = evaluation.monitors["heartbeat"]
        assert heartbeat.first_alert_at is not None
        assert report["monitors"]["heartbeat"]["first_alert_at"].startswith("20")

    def test_grouped_below_monitor_alerts_only_when_no_group_has_logs(self) -> None:
        """Grouped `<`: a group alerts only with logs below the threshold, or all at once (`*`) when none has any."""
        rules = rules_from_yaml(SILENCE)
        lines = [raw_line("heartbeat", T0, region="eu"), raw_line("other", T0 + 5)]
        evaluation = Evaluation(rules, keep_timeline=True)
        intake = Intake(rules)
        for number, line in enumerate(lines):
            evaluation.feed(intake.ingest(line, str(number).encode()))
        evaluation.finish()
        by_region = evaluation.monitors["heartbeat_by_region"]
        assert by_region.timeline is not None
        assert {key: r.state for key, r in by_region.timeline[T0 + 1].items()} == {("eu",): State.OK}
        assert {key: r.state for key, r in by_region.timeline[T0 + 3].items()} == {("*",): State.ALERT}
        assert [i.group for i in by_region.intervals] == [{"@region": "*"}]


class TestArrayGroups:
    def test_one_group_per_array_element(self) -> None:
        """Grouping by an array attribute counts the log under each element, not under the whole list."""
        evaluator = monitor('logs("*").index("*").rollup("count").by("@currencies").last("5m") > 9')
        evaluator.add(log({"currencies": ["EUR", "USD", "EUR"]}), T0)
        evaluator.add(log({"currencies": "EUR"}), T0)
        assert {k: r.value for k, r in evaluator.evaluate(T0 + 1).items()} == {("EUR",): 2, ("USD",): 1}

    def test_path_through_an_array_of_objects(self) -> None:
        """`@items.sku` finds each object's value, as the search matcher reads it."""
        evaluator = monitor('logs("*").index("*").rollup("count").by("@items.sku").last("5m") > 9')
        evaluator.add(log({"items": [{"sku": "a"}, {"sku": "b"}, {"other": 1}]}), T0)
        assert set(evaluator.evaluate(T0 + 1)) == {("a",), ("b",)}

    def test_cardinality_counts_elements(self) -> None:
        """The distinct count of an array attribute counts its elements."""
        evaluator = monitor('logs("*").index("*").rollup("cardinality", "@usr.ids").last("5m") > 9')
        evaluator.add(log({"usr": {"ids": ["u1", "u2"]}}), T0)
        evaluator.add(log({"usr": {"ids": ["u2", "u3"]}}), T0)
        assert evaluator.evaluate(T0 + 1)[()].value == 3

    def test_a_tag_with_two_values_counts_under_each(self) -> None:
        """A log tagged env:prod and env:staging counts in both env groups; combined facets multiply."""
        evaluator = monitor('logs("*").index("*").rollup("count").by("env,@region").last("5m") > 9')
        evaluator.add(log({"region": ["eu", "us"]}, tags=["env:prod", "env:staging"]), T0)
        assert set(evaluator.evaluate(T0 + 1)) == {
            ("prod", "eu"),
            ("prod", "us"),
            ("staging", "eu"),
            ("staging", "us"),
        }


AVG = 'logs("*").index("*").rollup("avg", "@duration").by("@currency").last("3m") > 100'


class TestRequireFullWindow:
    def test_a_group_without_data_at_the_window_start_is_not_evaluated(self) -> None:
        """With require_full_window, a group is evaluated only once its logs reach back to the window's start."""
        evaluator = deployed(AVG, require_full_window=True)
        for minute in range(5):
            evaluator.add(log({"currency": "EUR", "duration": 500}), T0 + minute)
        first = evaluator.evaluate(T0 + 1)[("EUR",)]
        assert (first.evaluated, first.state) == (False, State.OK)
        evaluator.evaluate(T0 + 2)
        full = evaluator.evaluate(T0 + 3)[("EUR",)]
        assert (full.evaluated, full.state) == (True, State.ALERT)

    def test_without_it_the_partial_window_is_evaluated(self) -> None:
        """Without require_full_window the first minute of data is evaluated at once."""
        evaluator = deployed(AVG)
        evaluator.add(log({"currency": "EUR", "duration": 500}), T0)
        assert evaluator.evaluate(T0 + 1)[("EUR",)].state is State.ALERT


class TestMissingData:
    def test_a_measure_rollup_keeps_its_last_state_when_logs_stop(self) -> None:
        """on_missing_data default: an avg monitor stays alerting after its logs stop."""
        evaluator = deployed(AVG)
        evaluator.add(log({"currency": "EUR", "duration": 500}), T0)
        for boundary in range(T0 + 1, T0 + 10):
            evaluator.evaluate(boundary)
        late = evaluator.timeline[T0 + 9][("EUR",)] if evaluator.timeline else None
        assert late is not None
        assert (late.state, late.evaluated) == (State.ALERT, False)
        assert [(i.start, i.end) for i in evaluator.intervals] == [((T0 + 1) * 60, None)]

    def test_a_count_evaluates_an_empty_window_as_zero(self) -> None:
        """on_missing_data default: a count recovers when its logs stop."""
        evaluator = deployed('logs("*").index("*").rollup("count").last("1m") > 0')
        evaluator.add(log(), T0)
        assert evaluator.evaluate(T0 + 1)[()].state is State.ALERT
        assert evaluator.evaluate(T0 + 2)[()] == evaluator.evaluate(T0 + 3)[()]
        assert [(i.start, i.end) for i in evaluator.intervals] == [((T0 + 1) * 60, (T0 + 2) * 60)]


class TestNewGroupDelay:
    def test_a_new_group_waits_before_it_can_alert(self) -> None:
        """A group that first appears is not evaluated for new_group_delay (60 s): it alerts a minute later."""
        evaluator = deployed('logs("*").index("*").rollup("count").by("@currency").last("5m") > 1', new_group_delay=60)
        for _ in range(3):
            evaluator.add(log({"currency": "EUR"}), T0)
        first = evaluator.evaluate(T0 + 1)[("EUR",)]
        assert (first.value, first.state, first.evaluated) == (3, State.OK, False)
        assert evaluator.evaluate(T0 + 2)[("EUR",)].state is State.ALERT

    def test_the_shipped_grouped_monitors_are_delayed(self) -> None:
        """Evaluation gives each grouped monitor the delay Datadog defaults to, and ungrouped ones none."""
        rules = rules_from_yaml(SILENCE)
        evaluation = Evaluation(rules)
        assert evaluation.monitors["heartbeat_by_region"].options.new_group_delay == 60
        assert evaluation.monitors["heartbeat"].options.new_group_delay == 0


class TestExactMerges:
    @given(st.lists(st.floats(-1e12, 1e12, allow_nan=False), max_size=60), st.integers(0, 2**32))
    @settings(max_examples=60, deadline=None)
    def test_a_sketch_merged_from_pieces_equals_one_built_whole(self, values: list[float], seed: int) -> None:
        """Counts, sum, min, max and every quantile do not depend on how the values were split and ordered."""
        whole = Sketch()
        for value in values:
            whole.add(value)
        shuffled = list(values)
        random.Random(seed).shuffle(shuffled)
        cut = len(shuffled) // 3
        merged, piece = Sketch(), Sketch()
        for value in shuffled[:cut]:
            merged.add(value)
        for value in shuffled[cut:]:
            piece.add(value)
        merged.merge(piece)
        assert (merged.count, merged.total, merged.minimum, merged.maximum) == (
            whole.count,
            whole.total,
            whole.minimum,
            whole.maximum,
        )
        assert [merged.quantile(q) for q in (0, 0.5, 0.99, 1)] == [whole.quantile(q) for q in (0, 0.5, 0.99, 1)]

    def test_exact_sum_is_correctly_rounded(self) -> None:
        """The sum of values that cancel in floating point comes out exact."""
        total = ExactSum()
        for value in (1e100, 1.0, -1e100, 0.1, 0.2):
            total.add(value)
        assert total.value == 1.3

    @given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=12))
    @settings(max_examples=100, deadline=None)
    def test_exact_sum_is_fsum_in_any_order_and_infinite_past_the_largest_float(self, values: list[float]) -> None:
        """The value is `math.fsum`'s (the exact sum, rounded once) whatever the order; a sum past the largest
        float is an infinity of its sign rather than an error or a NaN."""
        forward, backward = ExactSum(), ExactSum()
        for value in values:
            forward.add(value)
        for value in reversed(values):
            backward.add(value)
        try:
            expected = math.fsum(values)
        except OverflowError:
            assert math.isinf(forward.value)
        else:
            assert forward.value == expected
        assert repr(forward.value) == repr(backward.value)

    def test_a_value_added_times_over_is_a_sum_of_that_many(self) -> None:
        """`add(value, n)` is n additions, however large n."""
        once, repeated = ExactSum(), ExactSum()
        once.add(0.1, 1000)
        for _ in range(1000):
            repeated.add(0.1)
        assert once.value == repeated.value == math.fsum([0.1] * 1000)
        huge = ExactSum()
        huge.add(1e308, 2)
        assert huge.value == math.inf


class TestUndatedAndUnplaceable:
    def test_undated_logs_take_the_previous_date_and_unplaceable_ones_no_minute(self) -> None:
        """A log without a date counts in the previous dated log's minute; one dated at infinity in none."""
        rules = rules_from_yaml(SILENCE)
        intake = Intake(rules)
        evaluation = Evaluation(rules)
        first = intake.ingest(raw_line("heartbeat", T0 + 0.5), b"1")
        infinite = intake.ingest(raw_line("heartbeat", T0 + 0.5), b"2")
        infinite.record.timestamp = float("inf")
        undated = intake.ingest(raw_line("heartbeat", T0 + 0.5), b"3")
        undated.record.timestamp = None
        for ingested in (first, infinite, undated):
            evaluation.feed(ingested)
        assert evaluation.events == 3
        assert evaluation.tally.monitors["heartbeat"].minutes == {T0: {(): 2}}

    def test_replay_keeps_the_timeline_when_asked(self) -> None:
        """`Replay(keep_timeline=True)` exposes each monitor's evaluation per minute after the report."""
        rules = rules_from_yaml(SILENCE)
        run = Replay(rules, keep_timeline=True)
        run.run([orjson.dumps(raw_line("heartbeat", T0))])
        assert run.evaluation is not None
        timeline = run.evaluation.monitors["heartbeat"].timeline
        assert timeline is not None
        assert sorted(timeline) == [T0 + 1, T0 + 2, T0 + 3]
        assert timeline[T0 + 3][()].state is State.ALERT
