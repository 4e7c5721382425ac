"""Lint reasons about values the catalogue leaves open, and about attributes the pipeline creates."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from logmon.lint import lint_directory
from logmon.lint.logger_checks import _catalogue_location

RulesCopy = Callable[[Mapping[str, str]], Path]


def monitor(search: str) -> str:
    return (
        "monitors:\n"
        "  probe:\n"
        '    name: "probe"\n'
        f"    search: '{search}'\n"
        "    window: 5m\n"
        "    threshold: {critical: 10}\n"
        '    notify: {critical: ["@slack-x"]}\n'
    )


class TestOpenValues:
    @pytest.mark.parametrize(
        "search",
        [
            "@event_type:payment_completion @currency:EUR",
            "@event_type:api_request @http.status_code:>=500",
            "@event_type:payment_attempt @amount:>10000",
            "service:checkout status:error",
            "-@currency:USD @event_type:payment_completion",
        ],
    )
    def test_a_value_the_samples_do_not_show_can_still_match(self, rules_copy: RulesCopy, search: str) -> None:
        """A search on an open field (any currency, any status code) is not reported as matching nothing."""
        findings = lint_directory(rules_copy({"monitors.yaml": monitor(search)})).findings
        assert [f.check for f in findings] == []

    @pytest.mark.parametrize(
        "search",
        [
            "@event_type:payment_completion @payment_status:lost",
            "@event_type:api_request @currency:EUR",
            "@event_type:fraud_detection @success:false",
        ],
    )
    def test_a_closed_or_absent_field_proves_nothing_matches(self, rules_copy: RulesCopy, search: str) -> None:
        """An enumerated value no event takes, or a field the event lacks, still makes the monitor match nothing."""
        findings = lint_directory(rules_copy({"monitors.yaml": monitor(search)})).findings
        assert "monitor/matches-nothing" in {f.check for f in findings}


class TestPipelineCreatedAttributesAsTags:
    @pytest.mark.parametrize(("term", "fix"), [("event_category:security", "@event_category:security")])
    def test_an_attribute_the_pipeline_creates_is_not_a_tag(self, rules_copy: RulesCopy, term: str, fix: str) -> None:
        """`event_category:security` searches a tag; the pipeline creates the attribute `@event_category`."""
        findings = lint_directory(rules_copy({"monitors.yaml": monitor(term)})).findings
        (finding,) = [f for f in findings if f.check == "query/tag-vs-attribute"]
        assert finding.message.endswith(f"use '{fix}'")


class TestThresholdValues:
    @pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
    def test_non_finite_thresholds_are_refused(self, rules_copy: RulesCopy, value: str) -> None:
        """A NaN or infinite threshold is a schema error at its line, not a silent monitor."""
        text = monitor("@event_type:security_incident").replace("{critical: 10}", f"{{critical: {value}}}")
        findings = lint_directory(rules_copy({"monitors.yaml": text})).findings
        (finding,) = findings
        assert (finding.check, finding.location.line) == ("schema/value", 6)

    def test_a_slug_must_name_a_resource(self, rules_copy: RulesCopy) -> None:
        """A monitor keyed `Bad-Slug` is refused: slugs become resource names."""
        text = monitor("@event_type:security_incident").replace("  probe:", "  Bad-Slug:")
        findings = lint_directory(rules_copy({"monitors.yaml": text})).findings
        assert [f.check for f in findings] == ["schema/value"]


class TestCatalogueLocation:
    def test_points_at_the_fields_declaration(self) -> None:
        """A catalogue field is located where its event declares it, not at an earlier mention of the name."""
        location = _catalogue_location("payment_completion", "payment_status")
        line = Path(location.file).read_text().splitlines()[location.line - 1]
        assert '"payment_status"' in line
        assert location.line > _catalogue_location("payment_attempt", "payment_method").line - 100
