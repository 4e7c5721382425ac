"""Consistent sampling: whole requests kept or dropped, priorities never dropped."""

from __future__ import annotations

import random
import uuid

import pytest
from paylog_testing import Configure

import paylog
from paylog import sampling
from paylog.catalogue import ALWAYS_KEEP, CATALOGUE, LEVEL_NUMBERS, iter_samples
from paylog.correlation import correlation_scope
from paylog.sampling import Sampler, adaptive_rate, unit_fraction

INFO, WARNING = LEVEL_NUMBERS["info"], LEVEL_NUMBERS["warning"]


def ids(count: int, seed: int = 0) -> list[str]:
    """`count` reproducible UUID4 strings, as the middleware generates them."""
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


def kept_and_dropped(rate: float) -> tuple[str, str]:
    """A correlation ID the rate keeps and one it drops."""
    candidates = [f"req-{i}" for i in range(1000)]
    keep = next(c for c in candidates if unit_fraction(c) < rate)
    drop = next(c for c in candidates if unit_fraction(c) >= rate)
    return keep, drop


class TestAdaptiveRate:
    @pytest.mark.parametrize(
        ("load", "rate"),
        [(0.0, 0.1), (0.6, 0.1), (0.61, 0.05), (0.8, 0.05), (0.81, 0.01), (1.0, 0.01), (5.0, 0.01)],
    )
    def test_rate_table(self, load: float, rate: float) -> None:
        """Load above 0.8 → 1 %, above 0.6 → 5 %, otherwise 10 %."""
        assert adaptive_rate(load) == rate

    def test_adapt_sets_the_rate(self) -> None:
        """Sampler.adapt applies the table to the live rate."""
        sampler = Sampler()
        assert sampler.adapt(0.9) == 0.01
        assert sampler.rate == 0.01

    def test_rate_is_validated(self) -> None:
        """Rates outside 0..1 are refused."""
        with pytest.raises(ValueError, match=r"outside 0\.\.1"):
            Sampler().set_rate(1.2)


class TestDecision:
    def test_whole_requests_share_one_decision(self) -> None:
        """Every line of one correlation ID gets the same decision, at any level below warning."""
        sampler = Sampler(0.3)
        for correlation_id in ids(200):
            with correlation_scope(correlation_id):
                decisions = {sampler.keep(level) for level in (10, 20, 20, 10, 20)}
            assert len(decisions) == 1

    def test_rate_is_respected_over_many_requests(self) -> None:
        """About rate x N of N requests are kept (within four standard deviations)."""
        sampler = Sampler(0.1)
        requests = ids(10_000, seed=7)
        kept = 0
        for correlation_id in requests:
            with correlation_scope(correlation_id):
                kept += sampler.keep(INFO)
        expected, sigma = 1000, (10_000 * 0.1 * 0.9) ** 0.5
        assert abs(kept - expected) < 4 * sigma

    def test_lower_rates_keep_a_subset(self) -> None:
        """A request kept at 5 % is also kept at 10 %, so services at different rates stay consistent."""
        requests = ids(2000, seed=3)
        at_5 = {r for r in requests if unit_fraction(r) < 0.05}
        at_10 = {r for r in requests if unit_fraction(r) < 0.10}
        assert at_5 < at_10

    def test_warnings_and_always_keep_are_never_dropped(self) -> None:
        """Even at rate 0, warning and above and always-keep events are kept."""
        sampler = Sampler(0.0)
        with correlation_scope("req-1"):
            assert sampler.keep(WARNING)
            assert sampler.keep(50)
            assert sampler.keep(INFO, always_keep=True)
            assert not sampler.keep(INFO)

    def test_lines_outside_any_request_are_kept(self) -> None:
        """With no correlation ID and no trace, the documented rule is to keep the line."""
        assert Sampler(0.0).keep(INFO)

    def test_dropped_lines_are_counted(self) -> None:
        """The dropped counter counts every dropped line and nothing else."""
        sampler = Sampler(0.0)
        with correlation_scope("req-1"):
            for _ in range(5):
                sampler.keep(INFO)
            sampler.keep(WARNING)
        assert sampler.dropped == 5
        assert sampler.stats() == sampling.SamplingStats(rate=0.0, dropped=5)


class TestThroughTheLogger:
    def test_request_lines_all_kept_or_all_dropped(self, configure: Configure) -> None:
        """Through a configured logger, a request's lines appear together or not at all."""
        sink = configure(sample_rate=0.5)
        log = paylog.get_logger("p")
        for correlation_id in ids(60, seed=11):
            with correlation_scope(correlation_id):
                log.info("step one")
                log.debug("step two")
                log.event("api_request", method="GET", endpoint="/x", status_code=200, response_time_ms=1)
        counts: dict[str, int] = {}
        for line in sink.lines():
            counts[line["correlation_id"]] = counts.get(line["correlation_id"], 0) + 1
        assert set(counts.values()) == {3}
        assert 0 < len(counts) < 60

    def test_priority_lines_survive_rate_zero(self, configure: Configure) -> None:
        """At rate 0 inside a request, always-keep events and warnings+ are written, the rest dropped."""
        sink = configure(sample_rate=0.0, strict=False)
        log = paylog.get_logger("p")
        before = sampling.dropped()
        with correlation_scope("req-9"):
            for event in CATALOGUE:
                log.event(event, **next(iter_samples(CATALOGUE[event])))
            log.info("plain info")
            log.warning("plain warning")
            log.info("older style", event_type="payment_completion")
        written = sink.lines()
        written_events = {line.get("event_type") for line in written}
        assert written_events >= ALWAYS_KEEP
        assert "cache_operation" not in written_events
        assert all(line.get("event_type") in ALWAYS_KEEP or LEVEL_NUMBERS[line["level"]] >= WARNING for line in written)
        assert "plain warning" in {line["message"] for line in written}
        assert "plain info" not in {line["message"] for line in written}
        assert sampling.dropped() - before == len(CATALOGUE) + 3 - len(written)

    def test_configure_sets_the_process_rate(self, configure: Configure) -> None:
        """configure(sample_rate=...) sets the process-wide sampler; adapt_to_load changes it."""
        configure(sample_rate=0.25)
        assert sampling.stats().rate == 0.25
        assert sampling.adapt_to_load(0.7) == 0.05
        assert sampling.stats().rate == 0.05

    def test_sampled_out_event_skips_checks_in_production(self, configure: Configure) -> None:
        """In production a dropped event is not even checked (it costs only the decision)."""
        sink = configure(sample_rate=0.5, strict=False)
        _, drop = kept_and_dropped(0.5)
        with correlation_scope(drop):
            paylog.get_logger("p").event("api_request", method="BREW", endpoint=1, status_code="x")
        assert sink.lines() == []

    def test_sampled_out_event_is_still_checked_in_strict_mode(self, configure: Configure) -> None:
        """In strict mode sampling never hides a catalogue mistake."""
        configure(sample_rate=0.5, strict=True)
        _, drop = kept_and_dropped(0.5)
        with correlation_scope(drop), pytest.raises(paylog.EventSchemaError):
            paylog.get_logger("p").event(
                "api_request", method="BREW", endpoint="/", status_code=200, response_time_ms=1
            )
