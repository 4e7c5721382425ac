"""A rule test run as text for people and as JUnit XML for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from logmon.diagnostics import Finding
from logmon.ruletest.runner import CaseResult, TestReport


def summary(report: TestReport) -> str:
    return f"{report.passed} passed, {report.failed} failed"


def failure_text(case: CaseResult) -> list[str]:
    """A failed case: its name and where it is, then one line per failed expectation."""
    return [f"FAIL {case.id} ({case.location})", *(f"  {f.location}: {f.message}" for f in case.failures)]


def finding_text(findings: Iterable[Finding]) -> list[str]:
    return [f"{f.location}: {f.severity.value} {f.check}: {f.message}" for f in findings]


def text(report: TestReport) -> str:
    """Failures (or the problems that kept tests from running), then the summary line."""
    if report.findings:
        count = len(report.findings)
        lines = finding_text(report.findings)
        lines.append(f"rule tests did not run: {count} problem{'s' if count != 1 else ''} to fix first")
        return "\n".join(lines) + "\n"
    lines = [line for case in report.cases if not case.passed for line in failure_text(case)]
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def junit(report: TestReport) -> bytes:
    """JUnit XML: one testsuite per file and one testcase per case; problems in files are errors."""
    root = ET.Element("testsuites", name="logmon rule tests")
    by_file: dict[str, list[CaseResult]] = {}
    for case in report.cases:
        by_file.setdefault(case.file, []).append(case)
    for file, cases in by_file.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=file,
            tests=str(len(cases)),
            failures=str(sum(1 for c in cases if not c.passed)),
            errors="0",
            time=_seconds(sum(c.seconds for c in cases)),
        )
        for case in cases:
            element = ET.SubElement(
                suite,
                "testcase",
                name=case.name,
                classname=Path(case.file).stem,
                file=case.file,
                line=str(case.location.line),
                time=_seconds(case.seconds),
            )
            if case.failures:
                failure = ET.SubElement(element, "failure", message=case.failures[0].message, type="expectation")
                failure.text = "\n".join(f"{f.location}: {f.message}" for f in case.failures)
    problems: dict[str, list[Finding]] = {}
    for finding in report.findings:
        problems.setdefault(finding.location.file, []).append(finding)
    if problems:
        suite = ET.SubElement(
            root, "testsuite", name="rule test files", tests=str(len(problems)), failures="0", errors=str(len(problems))
        )
        for file, findings in problems.items():
            element = ET.SubElement(suite, "testcase", name=file, classname="files", file=file)
            error = ET.SubElement(element, "error", message=findings[0].message, type="invalid")
            error.text = "\n".join(finding_text(findings))
    root.set("tests", str(len(report.cases) + len(problems)))
    root.set("failures", str(report.failed))
    root.set("errors", str(len(problems)))
    root.set("time", _seconds(sum(c.seconds for c in report.cases)))
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
