"""The original strategy's five alert queries, written as it wrote them, and what lint says about each."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from logmon.diagnostics import Finding, Severity
from logmon.lint import lint_directory

RulesCopy = Callable[[Mapping[str, str]], Path]

SEED_QUERIES = {
    "high_error_rate": ("status:error", 100, "5m"),
    "payment_failures": ("event_type:payment_completion status:failed", 50, "5m"),
    "fraud_blocks": ("event_type:fraud_detection action:block", 10, "5m"),
    "authentication_failures": ("event_type:authentication_attempt success:false", 20, "5m"),
    "security_incidents": ("event_type:security_incident", 1, "1m"),
}
EVENT_MONITORS = ["payment_failures", "fraud_blocks", "authentication_failures", "security_incidents"]


def seed_monitors() -> str:
    """The seed's alert rules as a monitors file, queries verbatim."""
    lines = ["monitors:"]
    for slug, (query, threshold, window) in SEED_QUERIES.items():
        lines += [
            f"  {slug}:",
            f'    name: "[seed] {slug}"',
            f'    search: "{query}"',
            f"    window: {window}",
            f"    threshold: {{critical: {threshold}, unit: per_minute}}",
            '    notify: {critical: ["@slack-platform-alerts"]}',
        ]
    return "\n".join(lines) + "\n"


TEXT = seed_monitors()


def line_of(slug: str) -> int:
    """The line of a seed monitor's `search:`."""
    search = f'search: "{SEED_QUERIES[slug][0]}"'
    return TEXT.splitlines().index(f"    {search}") + 1


def column_of(slug: str, term: str) -> int:
    """The column where `term` starts in a seed monitor's search line."""
    return TEXT.splitlines()[line_of(slug) - 1].index(term) + 1


@pytest.fixture
def seed_findings(rules_copy: RulesCopy) -> list[Finding]:
    result = lint_directory(rules_copy({"monitors.yaml": TEXT}))
    assert result.rules is not None
    return result.findings


def on_line(findings: list[Finding], slug: str, check: str | None = None) -> list[Finding]:
    return [
        f
        for f in findings
        if Path(f.location.file).name == "monitors.yaml"
        and f.location.line == line_of(slug)
        and (check is None or f.check == check)
    ]


class TestSeedQueries:
    @pytest.mark.parametrize("slug", EVENT_MONITORS)
    def test_event_type_without_at_is_a_tag_search(self, seed_findings: list[Finding], slug: str) -> None:
        """Each seed event query is an error: `event_type:x` searches a tag, pointing at the term's first character."""
        findings = on_line(seed_findings, slug, "query/tag-vs-attribute")
        event_type_term = SEED_QUERIES[slug][0].split()[0]
        (finding,) = [f for f in findings if f.text == event_type_term]
        assert finding.severity is Severity.ERROR
        assert finding.location.column == column_of(slug, event_type_term)
        assert finding.message == (
            f"'{event_type_term}' searches a tag; the logger emits the attribute — use '@{event_type_term}'"
        )

    @pytest.mark.parametrize(
        ("slug", "term"), [("fraud_blocks", "action:block"), ("authentication_failures", "success:false")]
    )
    def test_other_bare_fields_are_tag_searches_too(self, seed_findings: list[Finding], slug: str, term: str) -> None:
        """`action:block` and `success:false` are logger attributes written as tags as well."""
        (finding,) = [f for f in on_line(seed_findings, slug, "query/tag-vs-attribute") if f.text == term]
        assert finding.location.column == column_of(slug, term)
        assert finding.message.endswith(f"use '@{term}'")

    def test_a_business_status_is_not_a_log_status(self, seed_findings: list[Finding]) -> None:
        """`status:failed` reads the log status, which is never 'failed'; the business outcome has its own field."""
        (finding,) = on_line(seed_findings, "payment_failures", "query/unknown-value")
        assert (finding.text, finding.severity) == ("status:failed", Severity.ERROR)
        assert finding.location.column == column_of("payment_failures", "status:failed")
        assert "status 'failed' is not a Datadog log status" in finding.message
        assert "'@payment_status'" in finding.message

    def test_status_error_is_a_valid_reserved_attribute_search(self, seed_findings: list[Finding]) -> None:
        """`status:error` searches the reserved status attribute, which error lines have: lint reports nothing."""
        assert on_line(seed_findings, "high_error_rate") == []

    @pytest.mark.parametrize("slug", EVENT_MONITORS)
    def test_event_queries_match_nothing(self, seed_findings: list[Finding], slug: str) -> None:
        """As written, the event queries match no catalogued log, which lint also warns about."""
        (finding,) = on_line(seed_findings, slug, "monitor/matches-nothing")
        assert finding.severity is Severity.WARNING

    def test_nothing_else_is_reported(self, seed_findings: list[Finding]) -> None:
        """The findings above are all lint has to say about the seed's queries."""
        assert sorted((f.location.line, f.check) for f in seed_findings) == sorted(
            [(line_of(slug), "query/tag-vs-attribute") for slug in EVENT_MONITORS]
            + [(line_of("fraud_blocks"), "query/tag-vs-attribute")]
            + [(line_of("authentication_failures"), "query/tag-vs-attribute")]
            + [(line_of("payment_failures"), "query/unknown-value")]
            + [(line_of(slug), "monitor/matches-nothing") for slug in EVENT_MONITORS]
        )

    def test_the_corrected_queries_pass(self, rules_copy: RulesCopy) -> None:
        """With `@` on attributes and `@payment_status` for the business outcome, the same monitors lint clean."""
        corrected = (
            TEXT.replace("event_type:", "@event_type:")
            .replace("status:failed", "@payment_status:failed")
            .replace(" action:", " @action:")
            .replace(" success:", " @success:")
        )
        assert lint_directory(rules_copy({"monitors.yaml": corrected})).findings == []
