"""Log-based metrics: counts and distributions per tag set, and the sketch behind distribution quantiles."""

from __future__ import annotations

import math
from typing import Any

import pytest
from evaluation_testing import log, rules_from_yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from logmon.evaluation.metrics import PERCENTILES, MetricAggregator
from logmon.evaluation.sketch import Sketch

METRICS = rules_from_yaml(
    """
    metrics:
      payments:
        filter: "*"
        compute: count
        group_by: ["@currency", {path: "@http.status_code", tag: code}, "service"]
      latency:
        filter: "*"
        compute: distribution
        path: "@duration"
        include_percentiles: true
        group_by: ["@usr.tier"]
      risk:
        filter: "*"
        compute: distribution
        path: "@risk_score"
    """
).metrics


def aggregate(name: str, logs: list[dict[str, Any]], **reserved: Any) -> MetricAggregator:
    aggregator = MetricAggregator(name, METRICS[name])
    for attributes in logs:
        aggregator.add(log(attributes, **reserved))
    return aggregator


def lower_quantile(values: list[float], q: float) -> float:
    """The exact value a quantile sketch estimates: the element at rank ⌊q·(n − 1)⌋."""
    return sorted(values)[math.floor(q * (len(values) - 1))]


FINITE = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


class TestCountMetrics:
    def test_counts_per_tag_set(self) -> None:
        """A count metric counts logs per combination of its tags; shorthand tags take the last path segment."""
        aggregator = aggregate(
            "payments",
            [
                {"currency": "USD", "http": {"status_code": 200}},
                {"currency": "USD", "http": {"status_code": 200}},
                {"currency": "EUR", "http": {"status_code": 503}},
                {},
            ],
            service="api",
        )
        assert aggregator.tags == ["currency", "code", "service"]
        assert aggregator.counts == {("USD", "200", "api"): 2, ("EUR", "503", "api"): 1, ("N/A", "N/A", "api"): 1}

    def test_value_filters_by_tags(self) -> None:
        """value() sums the groups whose tags include the ones asked for."""
        aggregator = aggregate(
            "payments",
            [{"currency": "USD", "http": {"status_code": c}} for c in (200, 200, 503)] + [{"currency": "EUR"}],
        )
        assert aggregator.value() == 4
        assert aggregator.value({"currency": "USD"}) == 3
        assert aggregator.value({"currency": "USD", "code": "503"}) == 1
        assert aggregator.value({"currency": "GBP"}) == 0

    def test_report_shape(self) -> None:
        """The report of a count metric has its total and one entry per tag set."""
        report = aggregate("payments", [{"currency": "USD"}, {"currency": "USD"}]).report()
        assert report == {
            "type": "count",
            "total": 2,
            "groups": [{"tags": {"currency": "USD", "code": "N/A", "service": "N/A"}, "value": 2}],
        }


class TestDistributionMetrics:
    def test_exact_summary_statistics(self) -> None:
        """count, sum, min, max and avg are exact; values that are not numbers are skipped."""
        values = [3.0, 1.5, 10.0, 7.25]
        aggregator = aggregate("risk", [{"risk_score": v} for v in values] + [{"risk_score": "high"}, {}])
        report = aggregator.report()
        assert {k: report[k] for k in ("type", "count", "sum", "min", "max", "avg")} == {
            "type": "distribution",
            "count": 4,
            "sum": 21.75,
            "min": 1.5,
            "max": 10.0,
            "avg": 21.75 / 4,
        }
        assert "p50" not in report

    def test_percentiles_per_group_and_merged(self) -> None:
        """With percentiles, each tag set and the merged total report p50–p99 within 1 % of the exact values."""
        fast = [float(v) for v in range(1, 101)]
        slow = [float(v) * 10 for v in range(1, 51)]
        logs = [{"duration": v, "usr": {"tier": "gold"}} for v in fast] + [{"duration": v} for v in slow]
        report = aggregate("latency", logs).report()
        groups = {tuple(g["tags"].values()): g for g in report["groups"]}
        for name, q in PERCENTILES.items():
            assert groups[("gold",)][name] == pytest.approx(lower_quantile(fast, q), rel=0.01)
            assert groups[("N/A",)][name] == pytest.approx(lower_quantile(slow, q), rel=0.01)
            assert report[name] == pytest.approx(lower_quantile(fast + slow, q), rel=0.01)
        assert report["count"] == 150

    def test_value_filters_distributions_by_tags(self) -> None:
        """value() merges the sketches of the selected tag sets."""
        logs: list[dict[str, Any]] = [{"duration": 1.0, "usr": {"tier": "gold"}}, {"duration": 9.0}, {"duration": 5.0}]
        summary = aggregate("latency", logs).value({"tier": "N/A"})
        assert isinstance(summary, dict)
        assert (summary["count"], summary["min"], summary["max"], summary["avg"]) == (2, 5.0, 9.0, 7.0)

    def test_empty_distribution(self) -> None:
        """Without any value, the summary says so with nulls, not zeros."""
        report = aggregate("latency", [{}]).report()
        assert (report["count"], report["min"], report["max"], report["avg"], report["p99"]) == (
            0,
            None,
            None,
            None,
            None,
        )
        assert report["groups"] == []


class TestSketch:
    @given(st.lists(FINITE, min_size=1, max_size=300), st.sampled_from([0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0]))
    @settings(max_examples=200, deadline=None)
    def test_quantiles_within_one_percent(self, values: list[float], q: float) -> None:
        """Every quantile is within the 1 % relative accuracy of the exact one."""
        sketch = Sketch()
        for value in values:
            sketch.add(value)
        exact = lower_quantile(values, q)
        estimate = sketch.quantile(q)
        assert estimate is not None
        assert abs(estimate - exact) <= 0.01 * abs(exact) * (1 + 1e-9)

    @given(st.lists(FINITE, min_size=1, max_size=100))
    @settings(max_examples=100, deadline=None)
    def test_exact_moments(self, values: list[float]) -> None:
        """count, sum, min, max and average are kept exactly."""
        sketch = Sketch()
        for value in values:
            sketch.add(value)
        assert (sketch.count, sketch.minimum, sketch.maximum) == (len(values), min(values), max(values))
        assert sketch.total == pytest.approx(math.fsum(values), rel=1e-9, abs=1e-3)
        assert sketch.average == pytest.approx(math.fsum(values) / len(values), rel=1e-9, abs=1e-3)

    def test_empty_sketch(self) -> None:
        """An empty sketch has no quantile and no average."""
        assert (Sketch().quantile(0.5), Sketch().average) == (None, None)

    def test_non_finite_values_are_ignored(self) -> None:
        """NaN and infinities are not recorded."""
        sketch = Sketch()
        for value in (math.nan, math.inf, -math.inf, 2.0):
            sketch.add(value)
        assert (sketch.count, sketch.total) == (1, 2.0)

    def test_zeros_and_negatives(self) -> None:
        """Zeros and negative values keep their order among the quantiles."""
        sketch = Sketch()
        for value in (-100.0, -1.0, 0.0, 0.0, 5.0):
            sketch.add(value)
        quantiles = [sketch.quantile(q) for q in (0.0, 0.25, 0.5, 0.75, 1.0)]
        assert quantiles == pytest.approx([-100.0, -1.0, 0.0, 0.0, 5.0], rel=0.01)

    @pytest.mark.parametrize("value", [42.0, -42.0])
    def test_quantiles_stay_within_the_observed_range(self, value: float) -> None:
        """No quantile lies below the smallest or above the largest value recorded."""
        sketch = Sketch()
        for _ in range(10):
            sketch.add(value)
        for q in (0.0, 0.5, 0.99, 1.0):
            estimate = sketch.quantile(q)
            assert estimate is not None
            assert sketch.minimum <= estimate <= sketch.maximum
