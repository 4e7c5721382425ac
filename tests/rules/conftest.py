"""Rules directories written for one test, and the shipped rules they are compared with."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from unittest import mock

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def shipped_rules() -> Path:
    """The `rules/` directory the team edits."""
    return REPOSITORY / "rules"


@pytest.fixture
def write_rules(tmp_path: Path) -> Callable[[Mapping[str, str | bytes]], Path]:
    """Write files (name → text or raw bytes) into a fresh rules directory and return the directory."""

    def write(files: Mapping[str, str | bytes]) -> Path:
        directory = tmp_path / "rules"
        directory.mkdir(exist_ok=True)
        for name, content in files.items():
            path = directory / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return directory

    return write


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
