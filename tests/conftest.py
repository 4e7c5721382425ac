"""Fixtures every part of the suite may use."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable
from unittest import mock

import pytest


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
