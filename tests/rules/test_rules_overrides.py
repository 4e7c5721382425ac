"""Per-environment overrides: the rules of one stack, with thresholds, handles, limits and sample rates
replaced, and every name the override uses checked against the rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from logmon.diagnostics import Location, RulesInvalid
from logmon.rules import RuleSet, apply_overrides, load_rules
from logmon.rules.model import Overrides
from logmon.rules.source import parse_yaml
from logmon.rules.validation import validate_document

RULES = """\
monitors:
  payment_failures:
    name: "[logs] Payment failures"
    search: "@event_type:payment_completion @payment_status:failed"
    window: 5m
    threshold: {critical: 50, warning: 25, unit: per_minute}
    priority: 1
    notify:
      critical: ["@pagerduty-payments"]
      warning: ["@slack-payments-alerts"]
  fraud_blocks:
    name: "[logs] Fraud blocks"
    search: "@event_type:fraud_detection @action:block"
    window: 5m
    threshold: {critical: 10}
    notify: {critical: ["@slack-fraud-alerts"]}
indexes:
  main:
    filter: "*"
    daily_limit: 50000000
    exclusion_filters:
      - {name: sample-routine, filter: "@event_type:cache_operation", sample_rate: 0.9}
      - {name: sample-queues, filter: "@event_type:message_queue_operation", sample_rate: 0.5}
"""


@pytest.fixture
def rules(write_rules: Callable[[Mapping[str, str]], Path]) -> Callable[[], RuleSet]:
    """Load RULES afresh from a rules directory."""
    directory = write_rules({"all.yaml": RULES})
    return lambda: load_rules(directory)


def overrides(text: str) -> Overrides:
    """Overrides as a stack file states them under `logmon:overrides`."""
    return validate_document(parse_yaml(text, "Pulumi.prod.yaml"), Overrides, "Pulumi.prod.yaml")


class TestMonitorOverrides:
    def test_threshold_critical_only(self, rules: Callable[[], RuleSet]) -> None:
        """Overriding `critical` keeps the rule's warning, unit and comparator."""
        changed = apply_overrides(rules(), overrides("monitors:\n  payment_failures:\n    threshold: {critical: 80}\n"))
        threshold = changed.monitors["payment_failures"].threshold
        assert (threshold.critical, threshold.warning, threshold.unit, threshold.comparator) == (
            80,
            25,
            "per_minute",
            ">",
        )

    def test_threshold_warning_only(self, rules: Callable[[], RuleSet]) -> None:
        """Overriding `warning` keeps the rule's critical."""
        changed = apply_overrides(rules(), overrides("monitors:\n  fraud_blocks:\n    threshold: {warning: 5}\n"))
        threshold = changed.monitors["fraud_blocks"].threshold
        assert (threshold.critical, threshold.warning) == (10, 5)

    def test_notify_priority_and_window(self, rules: Callable[[], RuleSet]) -> None:
        """`notify` is replaced as a whole; `priority` and `window` are replaced."""
        text = (
            "monitors:\n  payment_failures:\n    notify: {critical: ['@pagerduty-payments-prod']}\n"
            "    priority: 2\n    window: 10m\n"
        )
        monitor = apply_overrides(rules(), overrides(text)).monitors["payment_failures"]
        assert monitor.notify.critical == ["@pagerduty-payments-prod"]
        assert monitor.notify.warning == []
        assert (monitor.priority, monitor.window) == (2, "10m")

    def test_untouched_fields_and_monitors_stay(self, rules: Callable[[], RuleSet]) -> None:
        """Everything an override does not name is the rule as written, positions included."""
        original = rules()
        changed = apply_overrides(original, overrides("monitors:\n  payment_failures:\n    priority: 3\n"))
        monitor = changed.monitors["payment_failures"]
        assert monitor.search == original.monitors["payment_failures"].search
        assert monitor.where("search") == original.monitors["payment_failures"].where("search")
        assert monitor.threshold == original.monitors["payment_failures"].threshold
        assert changed.monitors["fraud_blocks"] is original.monitors["fraud_blocks"]

    def test_the_original_rules_are_not_changed(self, rules: Callable[[], RuleSet]) -> None:
        """Overrides build a new RuleSet; the loaded rules stay as written."""
        original = rules()
        apply_overrides(original, overrides("monitors:\n  payment_failures:\n    threshold: {critical: 80}\n"))
        assert original.monitors["payment_failures"].threshold.critical == 50

    def test_no_overrides_changes_nothing(self, rules: Callable[[], RuleSet]) -> None:
        """An empty override section leaves the rules equal to the loaded ones."""
        original = rules()
        changed = apply_overrides(original, Overrides())
        assert changed.monitors == original.monitors
        assert changed.indexes == original.indexes


class TestIndexOverrides:
    def test_daily_limit(self, rules: Callable[[], RuleSet]) -> None:
        """`daily_limit` replaces the index's limit."""
        changed = apply_overrides(rules(), overrides("indexes:\n  main:\n    daily_limit: 1000\n"))
        assert changed.indexes["main"].daily_limit == 1000

    def test_exclusion_sample_rates_by_name(self, rules: Callable[[], RuleSet]) -> None:
        """Sample rates are replaced by exclusion filter name; the others and their order stay."""
        text = "indexes:\n  main:\n    exclusion_sample_rates: {sample-queues: 0.1}\n"
        filters = apply_overrides(rules(), overrides(text)).indexes["main"].exclusion_filters
        assert [(f.name, f.sample_rate) for f in filters] == [("sample-routine", 0.9), ("sample-queues", 0.1)]
        assert filters[1].filter == "@event_type:message_queue_operation"


class TestUnknownNames:
    def test_unknown_monitor(self, rules: Callable[[], RuleSet]) -> None:
        """A monitor the rules do not define is an error with the name it probably meant."""
        with pytest.raises(RulesInvalid) as raised:
            apply_overrides(rules(), overrides("monitors:\n  payment_failurs:\n    priority: 1\n"))
        (finding,) = raised.value.findings
        assert (finding.check, finding.text, finding.location.file) == (
            "overrides/unknown-name",
            "payment_failurs",
            "Pulumi.prod.yaml",
        )
        assert finding.message == (
            "the override names monitor 'payment_failurs', which no rule defines; did you mean 'payment_failures'?"
        )

    def test_unknown_index(self, rules: Callable[[], RuleSet]) -> None:
        """An index the rules do not define is an error."""
        with pytest.raises(RulesInvalid) as raised:
            apply_overrides(rules(), overrides("indexes:\n  mian:\n    daily_limit: 5\n"))
        (finding,) = raised.value.findings
        assert (finding.check, finding.text) == ("overrides/unknown-name", "mian")
        assert finding.message == "the override names index 'mian', which no rule defines; did you mean 'main'?"

    def test_unknown_exclusion_filter(self, rules: Callable[[], RuleSet]) -> None:
        """An exclusion filter the index lacks is reported at the override, listing the filters it has."""
        text = "indexes:\n  main:\n    exclusion_sample_rates: {sample-rutine: 0.2}\n"
        with pytest.raises(RulesInvalid) as raised:
            apply_overrides(rules(), overrides(text))
        (finding,) = raised.value.findings
        assert finding.location == Location("Pulumi.prod.yaml", 3, 30)
        assert (finding.check, finding.text) == ("overrides/unknown-name", "sample-rutine")
        assert finding.message == (
            "index 'main' has no exclusion filter named 'sample-rutine'; it has: sample-queues, sample-routine"
        )

    def test_every_unknown_name_is_reported(self, rules: Callable[[], RuleSet]) -> None:
        """All unknown names in one override are reported together, and nothing is half-applied."""
        text = (
            "monitors:\n  payment_failures:\n    priority: 2\n  nope:\n    priority: 1\n"
            "indexes:\n  main:\n    exclusion_sample_rates: {nothing: 0.5}\n  absent:\n    daily_limit: 1\n"
        )
        with pytest.raises(RulesInvalid) as raised:
            apply_overrides(rules(), overrides(text))
        assert sorted(f.text or "" for f in raised.value.findings) == ["absent", "nope", "nothing"]
        assert {f.check for f in raised.value.findings} == {"overrides/unknown-name"}

    def test_override_values_are_validated_like_rules(self) -> None:
        """A mistyped override is a schema finding in the stack file, before anything is applied."""
        with pytest.raises(RulesInvalid) as raised:
            overrides("monitors:\n  payment_failures:\n    threshold: {critcal: 80}\n")
        (finding,) = raised.value.findings
        assert (str(finding.location), finding.check) == ("Pulumi.prod.yaml:3:17", "schema/unknown-key")
        assert finding.message == "unknown key 'critcal'; did you mean 'critical'?"
