"""`logmon plan` (and so `make plan`) shows the lint warnings the program logged, without failing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.projects import ROOT, copy_project


class TestPlanWarnings:
    def test_warnings_are_printed_with_their_count(self, tmp_path: Path, run_logmon: Any) -> None:
        """An ambiguous AND/OR in a monitor is printed as a counted warning and the plan still succeeds."""
        project = copy_project(tmp_path / "project")
        monitors = project / "rules" / "monitors.yaml"
        monitors.write_text(
            monitors.read_text().replace(
                '"@event_type:fraud_detection @action:block"',
                '"@event_type:fraud_detection @action:block OR @action:deny"',
            )
        )
        code, stdout, _ = run_logmon(["plan", "--stack", "dev", "--project", str(project)])
        assert code == 0
        assert "1 lint warning (the plan goes ahead):" in stdout
        assert "rules/monitors.yaml:" in stdout
        assert "query/ambiguous-precedence" in stdout

    def test_no_warnings_no_section(self, run_logmon: Any) -> None:
        """The shipped rules plan without a warnings section."""
        code, stdout, _ = run_logmon(["plan", "--stack", "dev", "--project", str(ROOT)])
        assert code == 0
        assert "lint warning" not in stdout
