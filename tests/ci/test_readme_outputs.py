"""The README's commands leave no untracked files behind: whatever they write is ignored by git."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT_OPTION = re.compile(r"--(?:json|junit|out|html)[ =](?P<path>[^\s`]+)")


def readme_outputs() -> list[str]:
    """Every path a `logmon` command in the README writes (`--json`, `--junit`, `--out`, `--html`)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return sorted({match.group("path") for match in OUTPUT_OPTION.finditer(text)})


class TestReadmeOutputs:
    def test_readme_commands_write_files(self) -> None:
        """The README does show commands that write plan and test reports (so the next test checks something)."""
        assert {"plan.json", "rule-tests.xml", "replay.html"} <= set(readme_outputs())

    def test_every_output_is_ignored_by_git(self) -> None:
        """`git check-ignore` covers each output, so `git status` stays clean after following the README."""
        outputs = readme_outputs()
        result = subprocess.run(
            ["git", "check-ignore", "--no-index", *outputs], cwd=ROOT, capture_output=True, text=True, check=False
        )
        ignored = set(result.stdout.split())
        assert [path for path in outputs if path not in ignored and path.rstrip("/") not in ignored] == []
