"""What `logmon replay` writes when charts are asked for: the HTML file, and the text, JSON or Markdown
on standard output (with `--compare`, about the monitors that change)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from logmon.replay import Replay, render_text
from logmon.report.collect import ChartedEvaluation
from logmon.report.compare import changed_monitors, comparison_document, verdict
from logmon.report.html import Provenance, render_html, rules_commit
from logmon.report.markdown import render_comparison_markdown, render_markdown
from logmon.rules.loader import RuleSet


@dataclass(frozen=True)
class ReplayRun:
    """One rule set's finished replay of the input."""

    source: str
    rules_dir: Path
    rules: RuleSet
    replay: Replay
    report: dict[str, Any]

    @property
    def evaluation(self) -> ChartedEvaluation:
        evaluation = self.replay.evaluation
        if not isinstance(evaluation, ChartedEvaluation):
            raise TypeError("charts need a replay run with ChartedEvaluation")
        return evaluation

    def provenance(self) -> Provenance:
        source = "standard input" if self.source == "-" else self.source
        return Provenance(source, str(self.rules_dir), rules_commit(self.rules_dir))


def write_reports(head: ReplayRun, base: ReplayRun | None, output_format: str, html: Path | None) -> str:
    """Write the HTML file when asked; return what goes to standard output."""
    provenance = head.provenance()
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(head.report, head.evaluation, head.rules, provenance), encoding="utf-8")
    if base is None:
        if output_format == "markdown":
            return render_markdown(head.report, head.evaluation, head.rules, provenance)
        if output_format == "json":
            return orjson.dumps(head.report, option=orjson.OPT_INDENT_2).decode() + "\n"
        return render_text(head.report)
    changes = changed_monitors(base.rules, head.rules, base.evaluation, head.evaluation)
    compared = len(set(base.rules.monitors) | set(head.rules.monitors))
    if output_format == "markdown":
        return render_comparison_markdown(
            changes, compared, head.report, head.evaluation, provenance, str(base.rules_dir)
        )
    if output_format == "json":
        document = {**head.report, "compare": comparison_document(changes, compared)}
        return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"
    lines = [f"  {change.slug}: {verdict(change)}" for change in changes]
    header = f"monitors that change against {base.rules_dir}: {len(changes)} of {compared}"
    return render_text(head.report) + header + "\n" + "".join(line + "\n" for line in lines)
