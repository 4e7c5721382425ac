"""Helpers shared by the rule test suites: run the command in-process and edit copied files."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from logmon.ruletest import main

REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED_RULES = REPOSITORY / "rules"

ProjectCopy = Callable[[Mapping[str, str]], Path]
"""Files to write (path under the project → text) → the copied rules directory."""


@dataclass(frozen=True)
class CommandRun:
    status: int
    output: str
    junit: Path


def run_main(
    rules: Path,
    run: str | None = None,
    junit: Path | None = None,
    coverage: bool = False,
    tests: Path | None = None,
) -> tuple[int, str]:
    """`logmon test` as the command calls it: (exit status, output)."""
    output = io.StringIO()
    status = main(rules, run, junit, coverage, output, tests=tests)
    return status, output.getvalue()


def edit(path: Path, old: str, new: str) -> None:
    """Replace one exact piece of a file, failing loudly when the piece is not written exactly once."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not written exactly once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    """The 1-based line on which `needle` is written (exactly once) in `path`."""
    lines = [number for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in text]
    assert len(lines) == 1, f"{needle!r} is on lines {lines} of {path}"
    return lines[0]
