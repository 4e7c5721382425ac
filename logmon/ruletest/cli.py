"""`logmon test`: run the rule tests, print failures and a summary, optionally JUnit XML and coverage."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TextIO

from logmon.ruletest.coverage import coverage as measure_coverage
from logmon.ruletest.report import junit as junit_xml
from logmon.ruletest.report import text
from logmon.ruletest.runner import run_tests

EXIT_OK = 0
EXIT_FAILED = 1
"""A case failed, or `--coverage` found a monitor without a firing or a quiet case."""
EXIT_INVALID = 2
"""Test files (or rules) that cannot be read or are invalid, or bad arguments (a `--run` that matches no case)."""


def main(
    rules: Path,
    run: str | None,
    junit: Path | None,
    coverage: bool,
    stdout: TextIO,
    *,
    tests: Path | None = None,
    html: Path | None = None,
) -> int:
    """Run `<rules>/tests/*.yaml` (or `tests`) against `rules`; the exit status as described above.

    `html` names a page to write with each failed case's monitors charted (expected against actual states).
    """
    if run is not None:
        try:
            re.compile(run)
        except re.error as error:
            stdout.write(f"logmon test: --run {run!r} is not a regular expression: {error}\n")
            return EXIT_INVALID
    report = run_tests(rules, tests, run)
    stdout.write(text(report))
    if junit is not None:
        try:
            junit.parent.mkdir(parents=True, exist_ok=True)
            junit.write_bytes(junit_xml(report))
        except OSError as error:
            stdout.write(f"logmon test: cannot write {junit}: {error.strerror or error}\n")
            return EXIT_INVALID
    if html is not None:
        from logmon.report.ruletests import render_ruletests_html

        try:
            html.parent.mkdir(parents=True, exist_ok=True)
            html.write_text(render_ruletests_html(report), encoding="utf-8")
        except OSError as error:
            stdout.write(f"logmon test: cannot write {html}: {error.strerror or error}\n")
            return EXIT_INVALID
    if report.findings:
        return EXIT_INVALID
    if run is not None and not report.cases:
        stdout.write(f"logmon test: no case matched --run {run!r}; a case's id is '<file stem>/<case name>'\n")
        return EXIT_INVALID
    status = EXIT_FAILED if report.failed else EXIT_OK
    if coverage:
        found = measure_coverage(report)
        stdout.write("coverage:\n" + "".join(f"  {line}\n" for line in found.lines()))
        if found.has_gaps:
            status = EXIT_FAILED
    return status
