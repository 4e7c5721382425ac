"""Lint runs over a copy of the shipped rules that a test changes file by file."""

from __future__ import annotations

import contextlib
import io
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from unittest import mock

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED_RULES = REPOSITORY / "rules"

RulesCopy = Callable[[Mapping[str, str]], Path]


@pytest.fixture
def rules_copy(tmp_path: Path) -> RulesCopy:
    """Copy the shipped rules, replace or add the given files (name → text), and return the directory."""

    def copy(files: Mapping[str, str]) -> Path:
        directory = tmp_path / "rules"
        if not directory.exists():
            shutil.copytree(SHIPPED_RULES, directory)
        for name, text in files.items():
            (directory / name).write_text(text, encoding="utf-8")
        return directory

    return copy


def invoke_logmon(arguments: list[str]) -> tuple[int, str, str]:
    """Run the `logmon` entry point in-process: (exit status, stdout, stderr)."""
    from logmon.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with (
        mock.patch.object(sys, "argv", ["logmon", *arguments]),
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
    ):
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code
        else:
            code = 0
    return (code if isinstance(code, int) else 1 if code else 0), stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="session")
def run_logmon() -> Callable[[list[str]], tuple[int, str, str]]:
    """The `logmon` command as a function of its arguments."""
    return invoke_logmon
