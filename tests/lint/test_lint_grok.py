"""Grok findings point into the rule texts: the line and column of the offending token in a block scalar."""

from __future__ import annotations

import shutil
from pathlib import Path

from logmon.lint import lint_directory

SHIPPED_RULES = Path(__file__).resolve().parents[2] / "rules"

GROK_RULES = """\
pipelines:
  grok_lines:
    name: "grok lines"
    filter: "source:fixture"
    processors:
      - type: grok_parser
        samples: ["10.0.0.1 GET /"]
        support_rules: |
          _client %{ipOrHost:network.client.ip}
          _method %{word:http.method:nosuchfilter}
        match_rules: |
          access %{_client} %{word:http.method} %{notSpace:http.url}
          other %{_client} %{date("dd/MMM/yyyy", "Mars/Olympus"):date}
"""


def lint_with(tmp_path: Path, text: str) -> list[tuple[str, int, int, str]]:
    directory = tmp_path / "rules"
    shutil.copytree(SHIPPED_RULES, directory)
    (directory / "grok.yaml").write_text(text, encoding="utf-8")
    result = lint_directory(directory)
    return [
        (finding.check, finding.location.line, finding.location.column, finding.message)
        for finding in result.findings
        if finding.check.startswith("pipeline/grok")
    ]


class TestGrokLocations:
    def test_a_bad_match_rule_is_reported_at_its_token(self, tmp_path: Path) -> None:
        """The second match rule's bad time zone is reported on its own line, at the `%{date` token."""
        text = GROK_RULES.replace("          _method %{word:http.method:nosuchfilter}\n", "")
        findings = lint_with(tmp_path, text)
        assert [(check, line, column) for check, line, column, _ in findings] == [("pipeline/grok-invalid", 12, 28)]
        assert "unknown time zone 'Mars/Olympus'" in findings[0][3]
        assert text.splitlines()[11][27:].startswith("%{date")

    def test_a_bad_support_rule_is_reported_in_support_rules(self, tmp_path: Path) -> None:
        """An unknown filter in a support rule points at that support rule's token."""
        findings = lint_with(tmp_path, GROK_RULES)
        assert [(check, line, column) for check, line, column, _ in findings] == [("pipeline/grok-invalid", 10, 19)]
        assert "unknown filter 'nosuchfilter'" in findings[0][3]

    def test_the_shipped_rules_have_no_grok_findings(self, tmp_path: Path) -> None:
        """The shipped ingress pipeline compiles and parses its samples."""
        directory = tmp_path / "rules"
        shutil.copytree(SHIPPED_RULES, directory)
        result = lint_directory(directory)
        assert result.rules is not None
        assert any(p.processors and p.processors[0].type == "grok_parser" for p in result.rules.pipelines.values())
        assert [f for f in result.findings if f.check.startswith("pipeline/")] == []
