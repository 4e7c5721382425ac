"""Datadog's HTTP intake fields (`ddsource`, `ddtags`, `hostname`) read by the one preprocessing step, and
exclusion sampling by an attribute (`sample_attribute`) as Datadog's index docs describe it."""

from __future__ import annotations

from emulator_testing import record, rules_from_yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from logmon.emulator import Emulator, IndexDecision, preprocess
from logmon.emulator.engine import sample_value
from logmon.emulator.preprocess import intake_tags


class TestIntakeFields:
    """The reserved fields of Datadog's HTTP logs intake (API reference, "Send logs", HTTPLogItem)."""

    def test_ddsource_becomes_the_source_and_leaves_the_attributes(self) -> None:
        """`ddsource` sets the log's source; it is the intake's field, not a custom attribute."""
        log = preprocess({"message": "GET /", "ddsource": "nginx"}, source="python")
        assert (log.source, "ddsource" in log.attributes) == ("nginx", False)

    def test_ddtags_are_split_trimmed_and_lower_cased(self) -> None:
        """`ddtags` is a comma-separated list of tags added to the agent's, lower-cased as Datadog stores tags."""
        log = preprocess({"message": "x", "ddtags": "env:Prod, team:edge,,version:1"}, tags=["kube:a"])
        assert log.tags == ["kube:a", "env:prod", "team:edge", "version:1"]
        assert "ddtags" not in log.attributes

    def test_hostname_is_the_host(self) -> None:
        """`hostname` sets the host when the line has no `host`."""
        assert preprocess({"message": "x", "hostname": "node-1"}, host="agent").host == "node-1"

    def test_without_intake_fields_nothing_changes(self) -> None:
        """A logger line without intake fields keeps the agent's source and tags."""
        log = preprocess({"message": "x"}, source="python", tags=["env:prod"])
        assert (log.source, log.tags) == ("python", ["env:prod"])

    def test_odd_intake_values_are_ignored(self) -> None:
        """A `ddtags` that is neither text nor a list adds nothing; a boolean `ddsource` is no source."""
        log = preprocess({"message": "x", "ddtags": {"a": 1}, "ddsource": True}, source="python")
        assert (log.source, log.tags) == ("python", [])

    @settings(max_examples=80, deadline=None)
    @given(st.one_of(st.text(max_size=40), st.lists(st.text(max_size=10), max_size=5), st.integers(), st.none()))
    def test_intake_tags_never_fail_and_are_clean(self, value: object) -> None:
        """Any `ddtags` value gives a list of non-empty, trimmed, lower-case tags."""
        tags = intake_tags(value)
        assert all(tag and tag == tag.strip().lower() for tag in tags)

    def test_the_pipelines_see_intake_fields(self) -> None:
        """A pipeline filtered on `source:nginx` runs for a line sent with `ddsource: nginx`."""
        rules = rules_from_yaml(
            """
            pipelines:
              nginx:
                name: nginx
                filter: "source:nginx env:prod"
                processors:
                  - {type: category_processor, target: kind, categories: [{name: web, filter: "*"}]}
            """
        )
        emulator = Emulator(rules, source="", tag_fields={})
        assert emulator.process({"message": "x", "ddsource": "nginx", "ddtags": "env:prod"}).attributes == {
            "kind": "web"
        }
        assert emulator.process({"message": "x", "ddtags": "env:prod"}).attributes == {}


class TestSampleAttribute:
    """`sample_attribute`: only logs that carry the attribute are sampled, by its value (Datadog's index docs,
    "Sampling consistently with higher-level entities")."""

    def test_logs_without_the_attribute_are_kept_even_at_full_exclusion(self) -> None:
        """A 100 % filter sampling by `@request_id` keeps a log that has no request ID."""
        decision = IndexDecision("main", "by-request", 1.0, sample_attribute="@request_id")
        assert decision.kept(record({}), b"line")
        assert not decision.kept(record({"request_id": "r1"}), b"line")

    def test_every_log_of_one_value_shares_the_decision(self) -> None:
        """All logs of one request are kept or dropped together, whatever else differs."""
        decision = IndexDecision("main", "by-request", 0.5, sample_attribute="@request_id")
        for value in ("r1", "r2", "r3", "r4"):
            outcomes = {decision.kept(record({"request_id": value, "n": n}), str(n).encode()) for n in range(20)}
            assert len(outcomes) == 1

    def test_same_rate_and_attribute_agree_across_indexes(self) -> None:
        """Two indexes with the same rate and attribute keep the same requests (the docs' cross-index advice)."""
        first = IndexDecision("a", "x", 0.5, sample_attribute="@request_id")
        second = IndexDecision("b", "y", 0.5, sample_attribute="@request_id")
        for n in range(50):
            log = record({"request_id": f"r{n}"})
            assert first.kept(log, b"1") == second.kept(log, b"2")

    def test_about_the_rate_of_values_is_excluded(self) -> None:
        """A 0.5 rate drops roughly half of the distinct values."""
        decision = IndexDecision("main", "by-request", 0.5, sample_attribute="@request_id")
        dropped = sum(not decision.kept(record({"request_id": f"r{n}"}), b"") for n in range(2000))
        assert 850 < dropped < 1150

    def test_trace_id_samples_by_the_remapped_trace_id(self) -> None:
        """Sampling by `trace_id` reads the reserved trace ID a trace ID remapper set."""
        log = record({}, trace_id="123")
        assert sample_value(log, "trace_id") == "123"
        assert not IndexDecision("main", "t", 1.0, sample_attribute="trace_id").kept(log, b"")
        assert IndexDecision("main", "t", 1.0, sample_attribute="trace_id").kept(record({}), b"")

    def test_routing_reports_the_filter_that_sampled(self) -> None:
        """The emulator routes a log to the filter with its attribute, in the engine rule tests and replay use."""
        rules = rules_from_yaml(
            """
            indexes:
              main:
                filter: "*"
                exclusion_filters:
                  - {name: by-request, filter: "*", sample_rate: 1.0, sample_attribute: "@request_id"}
            """
        )
        emulator = Emulator(rules)
        with_id = emulator.process({"message": "x", "request_id": "r1"})
        without = emulator.process({"message": "x"})
        assert not emulator.route(with_id).kept(with_id, b"a")
        assert emulator.route(without).kept(without, b"b")
        assert emulator.route(without).may_be_indexed
