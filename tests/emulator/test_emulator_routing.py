"""Index routing: the first matching index, its first matching exclusion filter, and reproducible sampling."""

from __future__ import annotations

import pytest
from emulator_testing import record, rules_from_yaml, shipped_rules
from hypothesis import given
from hypothesis import strategies as st

from logmon.emulator import Emulator, IndexDecision
from logmon.logrecord import LogRecord
from paylog.render import render

RULES = """
    indexes:
      security:
        filter: "@event_category:security"
      debug:
        filter: "status:debug"
        flex_only: true
      payments:
        filter: "@event_type:payment_*"
        exclusion_filters:
          - name: switched-off
            enabled: false
            filter: "*"
            sample_rate: 1.0
          - name: drop-attempts
            filter: "@event_type:payment_attempt"
            sample_rate: 1.0
          - name: sample-info
            filter: "status:info"
            sample_rate: 0.5
          - name: never-reached
            filter: "*"
            sample_rate: 0.25
      main:
        filter: "*"
        exclusion_filters:
          - name: sample-routine
            filter: "status:info"
            sample_rate: 0.9
            sample_attribute: "@correlation_id"
"""


@pytest.fixture(scope="module")
def emulator() -> Emulator:
    return Emulator(rules_from_yaml(RULES))


class TestIndexRouting:
    def test_first_matching_index_wins(self, emulator: Emulator) -> None:
        """A log matching several index filters goes to the first one only."""
        log = record({"event_category": "security", "event_type": "payment_attempt"}, status="debug")
        assert emulator.route(log).index == "security"

    def test_later_index_when_earlier_ones_do_not_match(self, emulator: Emulator) -> None:
        """A log that misses the earlier filters reaches the catch-all."""
        assert emulator.route(record({"event_type": "api_request"})).index == "main"

    def test_no_matching_index(self) -> None:
        """Without a matching index there is no decision and nothing is kept."""
        decision = Emulator(rules_from_yaml('indexes: {only: {filter: "service:ledger"}}')).route(record())
        assert decision == IndexDecision(None)
        assert not decision.may_be_indexed
        assert not decision.kept(record(), b"key")

    def test_flex_only_index(self, emulator: Emulator) -> None:
        """A flex-only index keeps the log but not where monitors look."""
        decision = emulator.route(record(status="debug"))
        assert (decision.index, decision.flex_only) == ("debug", True)
        assert decision.kept(record(status="debug"), b"k")
        assert not decision.may_be_indexed


class TestExclusionFilters:
    def test_only_the_first_matching_enabled_filter_applies(self, emulator: Emulator) -> None:
        """A disabled filter is skipped, and the first enabled match decides alone."""
        decision = emulator.route(record({"event_type": "payment_completion"}, status="info"))
        assert (decision.index, decision.exclusion, decision.sample_rate) == ("payments", "sample-info", 0.5)

    def test_a_later_filter_applies_when_earlier_ones_miss(self, emulator: Emulator) -> None:
        """A log the earlier filters miss gets the next matching filter."""
        decision = emulator.route(record({"event_type": "payment_completion"}, status="error"))
        assert (decision.exclusion, decision.sample_rate) == ("never-reached", 0.25)

    def test_sample_rate_one_excludes_everything(self, emulator: Emulator) -> None:
        """A sample rate of 1.0 excludes every log it matches."""
        log = record({"event_type": "payment_attempt"}, status="error")
        decision = emulator.route(log)
        assert decision.exclusion == "drop-attempts"
        assert not decision.may_be_indexed
        assert not any(decision.kept(log, str(n).encode()) for n in range(200))

    def test_no_matching_filter_keeps_the_log(self, emulator: Emulator) -> None:
        """A log no exclusion filter matches is kept."""
        log = record({"event_type": "api_request"}, status="error")
        decision = emulator.route(log)
        assert (decision.exclusion, decision.sample_rate) == (None, 0.0)
        assert decision.may_be_indexed
        assert decision.kept(log, b"anything")

    @pytest.mark.parametrize(
        ("decision", "expected"),
        [
            (IndexDecision("main"), True),
            (IndexDecision("main", "x", 0.99), True),
            (IndexDecision("main", "x", 1.0), False),
            (IndexDecision("debug", flex_only=True), False),
            (IndexDecision(None), False),
        ],
    )
    def test_may_be_indexed(self, decision: IndexDecision, expected: bool) -> None:
        """Only standard-tier indexes that can keep some of the log are visible to monitors."""
        assert decision.may_be_indexed is expected


class TestSampling:
    def test_decision_is_reproducible(self) -> None:
        """The same key gets the same decision every time."""
        decision = IndexDecision("main", "s", 0.5)
        first = [decision.kept(record(), f"line-{n}".encode()) for n in range(500)]
        assert first == [decision.kept(record(), f"line-{n}".encode()) for n in range(500)]
        assert True in first
        assert False in first

    @given(st.floats(min_value=0.0, max_value=1.0, exclude_min=True, exclude_max=True), st.integers(0, 2**64 - 1))
    def test_threshold_decides_as_the_fraction_does(self, rate: float, digest: int) -> None:
        """Comparing a hash with `kept_from` decides exactly as `hash / 2**64 >= rate`, at the threshold too."""
        threshold = IndexDecision("main", "s", rate).kept_from
        for value in (digest, threshold - 1, threshold):
            if 0 <= value < 2**64:
                assert (value >= threshold) == (value / 2**64 >= rate)

    def test_threshold_at_the_ends(self) -> None:
        """At a rate of 1 no hash reaches the threshold; at 0 every hash does."""
        assert IndexDecision("main", "s", 1.0).kept_from > 2**64 - 1
        assert IndexDecision("main", "s", 0.0).kept_from == 0

    def test_fraction_kept_is_one_minus_the_rate(self) -> None:
        """Over many keys, the fraction kept is close to 1 − sample_rate."""
        for rate in (0.1, 0.5, 0.9):
            decision = IndexDecision("main", "s", rate)
            kept = sum(decision.kept(record(), f"key-{n}".encode()) for n in range(20_000))
            assert kept / 20_000 == pytest.approx(1 - rate, abs=0.015)

    def test_one_correlation_id_shares_the_decision(self, emulator: Emulator) -> None:
        """With a sample attribute, every line of one correlation ID is kept or dropped together."""
        outcomes: dict[str, set[bool]] = {}
        for n in range(2_000):
            correlation = f"req-{n % 200}"
            log = record({"correlation_id": correlation, "n": n})
            decision = emulator.route(log)
            assert decision.sample_attribute == "@correlation_id"
            outcomes.setdefault(correlation, set()).add(decision.kept(log, f"line-{n}".encode()))
        assert all(len(seen) == 1 for seen in outcomes.values())
        kept_requests = sum(True in seen for seen in outcomes.values())
        assert 0 < kept_requests < 60  # about 10 % of 200 requests

    def test_fraction_of_requests_kept(self, emulator: Emulator) -> None:
        """Over many correlation IDs, about 1 − sample_rate of the requests are kept."""
        logs = [record({"correlation_id": f"req-{n:08d}"}) for n in range(20_000)]
        kept = sum(emulator.route(log).kept(log, b"same fallback") for log in logs)
        assert kept / 20_000 == pytest.approx(0.1, abs=0.01)

    def test_lines_without_the_attribute_are_kept(self, emulator: Emulator) -> None:
        """A line lacking the sample attribute (or with it null) is not sampled."""
        for log in (record({}), record({"correlation_id": None})):
            decision = emulator.route(log)
            assert decision.sample_rate == 0.9
            assert all(decision.kept(log, str(n).encode()) for n in range(300))

    def test_excluding_everything_still_keeps_lines_without_the_attribute(self) -> None:
        """At sample_rate 1.0 by attribute, lines with the attribute are all dropped, lines without it all kept."""
        decision = IndexDecision("main", "s", 1.0, sample_attribute="@correlation_id")
        assert not any(decision.kept(record({"correlation_id": f"r{n}"}), b"k") for n in range(100))
        assert all(decision.kept(record({}), str(n).encode()) for n in range(100))
        assert decision.may_be_indexed
        assert not IndexDecision("main", "s", 1.0).may_be_indexed

    def test_nested_sample_attribute(self) -> None:
        """A nested sample attribute (`@usr.id`) groups by its value."""
        decision = IndexDecision("main", "s", 0.5, sample_attribute="@usr.id")
        by_user = {
            user: {decision.kept(record({"usr": {"id": user}}), f"{user}-{n}".encode()) for n in range(20)}
            for user in range(50)
        }
        assert all(len(seen) == 1 for seen in by_user.values())
        assert {True, False} == set().union(*by_user.values())


class TestShippedIndexes:
    def route(self, event: str, fields: dict[str, object], correlation_id: str = "req-1") -> tuple[Emulator, LogRecord]:
        emulator = Emulator(shipped_rules())
        return emulator, emulator.process(render(event, fields, correlation_id=correlation_id))

    def test_security_events_go_to_the_security_index(self) -> None:
        """Authentication attempts are security events and route to `security`."""
        emulator, log = self.route("authentication_attempt", {"success": True, "ip_address": "203.0.113.9"})
        assert emulator.route(log).index == "security"

    def test_debug_lines_go_to_flex(self) -> None:
        """Debug lines route to the flex-only `debug` index, out of monitors' sight."""
        emulator, log = self.route("cache_operation", {"operation": "get", "key": "k"})
        decision = emulator.route(log)
        assert (decision.index, decision.may_be_indexed) == ("debug", False)

    def test_always_keep_events_are_never_sampled(self) -> None:
        """A payment completion skips the routine sampling filter."""
        emulator, log = self.route(
            "payment_completion",
            {
                "transaction_id": "t",
                "payment_status": "completed",
                "amount": 1.0,
                "currency": "USD",
                "completion_timestamp": "2026-01-05T00:00:00Z",
            },
        )
        decision = emulator.route(log)
        assert (decision.index, decision.exclusion) == ("main", None)

    def test_routine_lines_are_sampled_per_request(self) -> None:
        """A routine info line meets `sample-routine`: 90 % excluded, by correlation ID."""
        fields = {"method": "GET", "endpoint": "/v1/x", "status_code": 200, "response_time_ms": 1.0}
        emulator, log = self.route("api_request", fields)
        decision = emulator.route(log)
        assert (decision.exclusion, decision.sample_rate, decision.sample_attribute) == (
            "sample-routine",
            0.9,
            "@correlation_id",
        )

    def test_lines_without_a_correlation_id_are_sampled_too(self) -> None:
        """A third-party line without a correlation ID meets its own filter: about 10 % kept, line by line."""
        emulator = Emulator(shipped_rules())
        kept = 0
        for n in range(5_000):
            log = emulator.process({"message": f"GET /healthz {n}", "status": "info", "service": "ingress-nginx"})
            decision = emulator.route(log)
            assert (decision.exclusion, decision.sample_attribute) == ("sample-routine-uncorrelated", None)
            kept += decision.kept(log, f"line-{n}".encode())
        assert kept / 5_000 == pytest.approx(0.1, abs=0.02)

    def test_errors_are_not_sampled(self) -> None:
        """An error line is exempt from the routine sampling."""
        fields = {"method": "GET", "endpoint": "/v1/x", "status_code": 500, "response_time_ms": 1.0}
        emulator, log = self.route("api_request", fields)
        assert emulator.route(log).exclusion is None
