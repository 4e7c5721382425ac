"""Monitor options that Datadog would not honour on a log monitor are refused where they are written."""

from __future__ import annotations

import pytest

from logmon.diagnostics import RulesInvalid
from logmon.rules import parse_rules_text

MONITOR_WITH_DELAY = """\
monitors:
  payment_failures:
    name: "[logs] Payment failures"
    search: "@event_type:payment_completion @payment_status:failed"
    window: 5m
    threshold: {critical: 250}
    evaluation_delay: 300
"""


class TestEvaluationDelay:
    def test_refused_at_its_key_with_the_reason(self) -> None:
        """`evaluation_delay` on a log monitor is an error at the key's file:line:col, saying why and what to do."""
        with pytest.raises(RulesInvalid) as raised:
            parse_rules_text(MONITOR_WITH_DELAY, "rules/monitors.yaml")
        (finding,) = raised.value.findings
        assert str(finding.location) == "rules/monitors.yaml:7:5"
        assert finding.check == "schema/unknown-key"
        assert "metric monitors only" in finding.message
        assert "remove the key" in finding.message

    def test_other_unknown_keys_keep_the_suggestion(self) -> None:
        """A plain typo still gets the closest key, not the evaluation-delay reason."""
        text = MONITOR_WITH_DELAY.replace("evaluation_delay: 300", "renotify_intervall: 30")
        with pytest.raises(RulesInvalid) as raised:
            parse_rules_text(text, "rules/monitors.yaml")
        (finding,) = raised.value.findings
        assert "did you mean 'renotify_interval'" in finding.message
