"""What one evaluation computes: rollups, groups, comparators, states, and the alert intervals they make."""

from __future__ import annotations

import math
import statistics
from typing import Any

import pytest
from evaluation_testing import T0, log, monitor
from hypothesis import given, settings
from hypothesis import strategies as st

from logmon.evaluation import GroupResult, MonitorEvaluator, State
from logmon.evaluation.monitors import describe
from logmon.evaluation.sketch import RELATIVE_ACCURACY, Sketch
from logmon.logrecord import LogRecord


def measure_monitor(rollup: str, measure: str = "@duration", by: str = "") -> MonitorEvaluator:
    group = f'.by("{by}")' if by else ""
    return monitor(f'logs("*").index("*").rollup("{rollup}", "{measure}"){group}.last("5m") > 1000000')


def value_of(evaluator: MonitorEvaluator, logs: list[LogRecord], group: tuple[str, ...] = ()) -> float | None:
    for record in logs:
        evaluator.add(record, T0)
    result = evaluator.evaluate(T0 + 1).get(group)
    return None if result is None else result.value


DURATIONS = [12.0, 3.0, 7.5, 100.0, 0.0, 42.0, 7.5]


class TestRollups:
    def test_count(self) -> None:
        """`count` is the number of logs in the window."""
        evaluator = monitor('logs("*").index("*").rollup("count").last("5m") > 10')
        assert value_of(evaluator, [log() for _ in range(7)]) == 7

    def test_count_of_nothing_is_zero(self) -> None:
        """An ungrouped count with no log is 0, not missing."""
        evaluator = monitor('logs("*").index("*").rollup("count").last("5m") < 1')
        result = evaluator.evaluate(T0)
        assert result[()].value == 0
        assert result[()].state is State.ALERT

    def test_cardinality_counts_distinct_values(self) -> None:
        """`cardinality` counts distinct values; logs without the facet add nothing."""
        logs = [log({"usr": {"id": user}}) for user in ("u1", "u2", "u1", "u3", "u2")] + [log({})]
        assert value_of(measure_monitor("cardinality", "@usr.id"), logs) == 3

    def test_cardinality_across_minutes(self) -> None:
        """A value seen in two minutes of the window counts once."""
        evaluator = measure_monitor("cardinality", "@usr.id")
        evaluator.add(log({"usr": {"id": "u1"}}), T0 - 2)
        evaluator.add(log({"usr": {"id": "u1"}}), T0 - 1)
        evaluator.add(log({"usr": {"id": 7}}), T0)
        assert evaluator.evaluate(T0 + 1)[()].value == 2

    def test_cardinality_of_nothing_is_zero(self) -> None:
        """An ungrouped cardinality without any value is 0."""
        assert value_of(measure_monitor("cardinality", "@usr.id"), [log({})]) == 0

    @pytest.mark.parametrize(
        ("rollup", "expected"),
        [
            ("avg", statistics.fmean(DURATIONS)),
            ("sum", sum(DURATIONS)),
            ("min", 0.0),
            ("max", 100.0),
        ],
    )
    def test_measure_aggregations(self, rollup: str, expected: float) -> None:
        """avg, sum, min and max aggregate the measure's values exactly."""
        logs = [log({"duration": d}) for d in DURATIONS]
        assert value_of(measure_monitor(rollup), logs) == pytest.approx(expected, rel=1e-12)

    @pytest.mark.parametrize("rollup", ["median", "pc75", "pc90", "pc95", "pc98", "pc99"])
    def test_percentiles_come_from_the_sketch(self, rollup: str) -> None:
        """median and pcNN are read from the same sketch as distribution metrics, not interpolated."""
        logs = [log({"duration": d}) for d in DURATIONS]
        sketch = Sketch()
        for value in DURATIONS:
            sketch.add(value)
        fraction = 0.5 if rollup == "median" else int(rollup[2:]) / 100
        assert value_of(measure_monitor(rollup), logs) == sketch.quantile(fraction)

    @given(
        st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=60),
        st.sampled_from(["median", "pc75", "pc90", "pc95", "pc98", "pc99"]),
    )
    @settings(max_examples=60, deadline=None)
    def test_percentiles_stay_within_the_sketch_error_bound(self, values: list[float], rollup: str) -> None:
        """Every percentile is within 1 % (the sketch's relative accuracy) of the value at its rank."""
        fraction = 0.5 if rollup == "median" else int(rollup[2:]) / 100
        exact = sorted(values)[math.floor(fraction * (len(values) - 1))]
        got = value_of(measure_monitor(rollup), [log({"duration": v}) for v in values])
        assert got is not None
        assert abs(got - exact) <= RELATIVE_ACCURACY * abs(exact) + 1e-12

    def test_non_numeric_measures_are_ignored(self) -> None:
        """Strings, booleans and nulls are not measures and do not enter the aggregation."""
        logs = [log({"duration": v}) for v in (10, "20", True, None, 30.0)] + [log({})]
        assert value_of(measure_monitor("avg"), logs) == 20

    def test_no_measure_values_means_no_result(self) -> None:
        """A measure aggregation over logs without the measure has no value, and no state."""
        evaluator = measure_monitor("avg")
        assert value_of(evaluator, [log({}), log({"duration": "slow"})]) is None
        assert evaluator.max_value is None


class TestGroupBy:
    def test_one_result_per_group(self) -> None:
        """A grouped count has one value per facet value."""
        evaluator = monitor('logs("*").index("*").rollup("count").by("@currency").last("5m") > 1')
        for currency in ("USD", "EUR", "USD"):
            evaluator.add(log({"currency": currency}), T0)
        results = evaluator.evaluate(T0 + 1)
        assert {key: r.value for key, r in results.items()} == {("USD",): 2, ("EUR",): 1}
        assert {key: r.state for key, r in results.items()} == {("USD",): State.ALERT, ("EUR",): State.OK}

    def test_missing_facet_is_n_a(self) -> None:
        """Logs without the facet form the `N/A` group."""
        evaluator = monitor('logs("*").index("*").rollup("count").by("@currency").last("5m") > 1')
        evaluator.add(log({}), T0)
        evaluator.add(log({"currency": None}), T0)
        assert {key: r.value for key, r in evaluator.evaluate(T0 + 1).items()} == {("N/A",): 2}

    def test_several_facets_reserved_and_tags(self) -> None:
        """Groups combine attribute, reserved-attribute and tag facets; values are named as text."""
        evaluator = monitor('logs("*").index("*").rollup("count").by("@http.status_code,service,env").last("5m") > 9')
        evaluator.add(log({"http": {"status_code": 503}}, service="api", tags=["env:prod"]), T0)
        evaluator.add(log({"http": {"status_code": 503.0}}, service="api", tags=["env:prod"]), T0)
        evaluator.add(log({"http": {"status_code": True}}), T0)
        results = evaluator.evaluate(T0 + 1)
        assert {key: r.value for key, r in results.items()} == {("503", "api", "prod"): 2, ("true", "N/A", "N/A"): 1}
        assert evaluator.group_names(("503", "api", "prod")) == {
            "@http.status_code": "503",
            "service": "api",
            "env": "prod",
        }

    def test_grouped_measure(self) -> None:
        """A measure aggregation is computed per group."""
        evaluator = measure_monitor("max", by="@currency")
        logs = [log({"currency": c, "duration": d}) for c, d in (("USD", 5), ("USD", 9), ("EUR", 1))]
        for record in logs:
            evaluator.add(record, T0)
        assert {key: r.value for key, r in evaluator.evaluate(T0 + 1).items()} == {("USD",): 9, ("EUR",): 1}

    def test_a_grouped_count_without_any_log_is_one_zero(self) -> None:
        """With group_by and no log for any group, the evaluation is 0 for all groups at once (`*`)."""
        evaluator = monitor('logs("*").index("*").rollup("count").by("@currency").last("5m") > 1')
        assert evaluator.evaluate(T0) == {("*",): GroupResult(0.0, State.OK)}

    def test_describe_lists_groups_with_states(self) -> None:
        """describe() names each group and its value and state, sorted."""
        evaluator = monitor('logs("*").index("*").rollup("count").by("@currency").last("5m") > 1')
        for currency in ("USD", "EUR", "USD"):
            evaluator.add(log({"currency": currency}), T0)
        assert describe(evaluator.evaluate(T0 + 1), evaluator) == [
            {"group": {"@currency": "EUR"}, "value": 1.0, "state": "ok"},
            {"group": {"@currency": "USD"}, "value": 2.0, "state": "alert"},
        ]


class TestComparatorsAndStates:
    @pytest.mark.parametrize(
        ("comparator", "critical", "warning", "states"),
        [
            (">", 4, 2, ["ok", "ok", "ok", "warn", "warn", "alert", "alert"]),
            (">=", 4, 2, ["ok", "ok", "warn", "warn", "alert", "alert", "alert"]),
            ("<", 2, 4, ["alert", "alert", "warn", "warn", "ok", "ok", "ok"]),
            ("<=", 2, 4, ["alert", "alert", "alert", "warn", "warn", "ok", "ok"]),
        ],
    )
    def test_comparator_decides_alert_and_warning(
        self, comparator: str, critical: int, warning: int, states: list[str]
    ) -> None:
        """Counts 0–6 against the critical and warning thresholds in the comparator's direction."""
        seen = []
        for count in range(7):
            evaluator = monitor(f'logs("*").index("*").rollup("count").last("1m") {comparator} {critical}', warning)
            for _ in range(count):
                evaluator.add(log(), T0)
            seen.append(evaluator.evaluate(T0 + 1)[()].state.value)
        assert seen == states

    def test_without_warning_threshold_there_is_no_warn(self) -> None:
        """A monitor without a warning threshold is only OK or ALERT."""
        evaluator = monitor('logs("*").index("*").rollup("count").last("1m") > 3')
        for _ in range(3):
            evaluator.add(log(), T0)
        assert evaluator.evaluate(T0 + 1)[()].state is State.OK


class TestAlertIntervals:
    @staticmethod
    def run(counts: list[int], evaluator: MonitorEvaluator | None = None) -> MonitorEvaluator:
        """One count per minute from T0, each evaluated at the following boundary."""
        evaluator = evaluator or monitor('logs("*").index("*").rollup("count").last("1m") > 2')
        for offset, count in enumerate(counts):
            for _ in range(count):
                evaluator.add(log(), T0 + offset)
            evaluator.evaluate(T0 + offset + 1)
        return evaluator

    def test_interval_opens_and_closes(self) -> None:
        """An interval runs from the first alerting evaluation to the first that is not."""
        evaluator = self.run([0, 3, 5, 1, 0])
        assert [(i.start, i.end, i.group) for i in evaluator.intervals] == [((T0 + 2) * 60, (T0 + 4) * 60, {})]
        assert evaluator.first_alert_at == (T0 + 2) * 60
        assert evaluator.max_value == 5

    def test_warning_does_not_open_an_interval(self) -> None:
        """Only ALERT opens an interval; WARN does not."""
        evaluator = self.run([2, 2], monitor('logs("*").index("*").rollup("count").last("1m") > 2', 1))
        assert evaluator.intervals == []
        assert evaluator.first_alert_at is None

    def test_realerting_opens_a_new_interval(self) -> None:
        """Alert, recover, alert again: two intervals; first_alert_at stays the first."""
        evaluator = self.run([3, 0, 4, 0])
        assert [(i.start - T0 * 60, (i.end or 0) - T0 * 60) for i in evaluator.intervals] == [(60, 120), (180, 240)]
        assert evaluator.first_alert_at == (T0 + 1) * 60

    def test_interval_still_open(self) -> None:
        """An alert that has not recovered has no end."""
        evaluator = self.run([0, 3])
        assert [(i.start, i.end) for i in evaluator.intervals] == [((T0 + 2) * 60, None)]

    def test_intervals_per_group(self) -> None:
        """Each group alerts and recovers on its own; a group that disappears recovers."""
        evaluator = monitor('logs("*").index("*").rollup("count").by("@currency").last("1m") > 1')
        minutes: list[dict[str, int]] = [{"USD": 2, "EUR": 0}, {"USD": 2, "EUR": 2}, {"USD": 0, "EUR": 2}, {}]
        for offset, counts in enumerate(minutes):
            for currency, count in counts.items():
                for _ in range(count):
                    evaluator.add(log({"currency": currency}), T0 + offset)
            evaluator.evaluate(T0 + offset + 1)
        spans: list[tuple[Any, ...]] = [
            (i.group["@currency"], i.start - T0 * 60, (i.end or 0) - T0 * 60) for i in evaluator.intervals
        ]
        assert spans == [("USD", 60, 180), ("EUR", 120, 240)]

    def test_timeline_records_every_evaluation(self) -> None:
        """The timeline keeps each boundary's results when asked to."""
        evaluator = self.run([1, 3])
        timeline = evaluator.timeline
        assert timeline is not None
        assert {m - T0: r[()].state for m, r in timeline.items()} == {1: State.OK, 2: State.ALERT}
        assert MonitorEvaluator("x", evaluator.query, None).timeline is None


def sketch_state(sketch: Sketch) -> tuple[object, ...]:
    return (
        sketch.count,
        repr(sketch.total),  # an infinite sum compares as text
        sketch.minimum,
        sketch.maximum,
        [sketch.quantile(q) for q in (0.0, 0.5, 0.9, 0.99, 1.0)],
    )


class TestRepeatedValues:
    @given(
        st.lists(
            st.tuples(
                st.one_of(st.floats(allow_nan=False), st.sampled_from([0.0, -0.0, 1e308, -1e308])), st.integers(1, 40)
            ),
            max_size=12,
        )
    )
    @settings(max_examples=80, deadline=None)
    def test_a_value_added_n_times_at_once_equals_n_additions(self, values: list[tuple[float, int]]) -> None:
        """`add(value, n)` leaves the sketch (count, exact sum, extremes, quantiles) as n separate adds do, huge
        values and both zeros included, so replay may count equal measures together."""
        at_once, one_by_one = Sketch(), Sketch()
        for value, times in values:
            at_once.add(value, times)
            for _ in range(times):
                one_by_one.add(value)
        assert sketch_state(at_once) == sketch_state(one_by_one)

    def test_zero_has_one_sign(self) -> None:
        """`-0.0` and `0.0` are the same value to a sketch, whichever comes first."""
        first, second = Sketch(), Sketch()
        first.add(-0.0)
        first.add(0.0)
        second.add(0.0)
        second.add(-0.0)
        assert str(first.minimum) == str(second.minimum) == "0.0"
        assert str(first.total) == "0.0"
