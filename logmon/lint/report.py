"""Findings as text for people, as GitHub workflow annotations, or as JSON for tools."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import orjson

from logmon.diagnostics import Finding, Severity

FORMATS = ("text", "github", "json")


def summary(findings: Sequence[Finding], files: int) -> str:
    counts = Counter(f.severity for f in findings)
    if not findings:
        return f"no problems in {files} file{'s' if files != 1 else ''}"
    parts = [
        f"{counts[severity]} {severity.value}{'s' if counts[severity] != 1 and severity != Severity.INFO else ''}"
        for severity in Severity
        if counts[severity]
    ]
    total = len(findings)
    return f"{total} problem{'s' if total != 1 else ''} ({', '.join(parts)}) in {files} file{'s' if files != 1 else ''}"


def as_text(findings: Sequence[Finding], files: int) -> str:
    lines = [f"{f.location}: {f.severity.value} {f.check}: {f.message}" for f in findings]
    lines.append(summary(findings, files))
    return "\n".join(lines) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def as_github(findings: Sequence[Finding], files: int) -> str:
    """Workflow commands that GitHub shows as annotations on the pull request's diff."""
    lines = [
        f"::{_GITHUB_LEVEL[f.severity]} file={_escape_property(f.location.file)},line={f.location.line},"
        f"col={f.location.column},title={_escape_property(f.check)}::{_escape_data(f.message)}"
        for f in findings
    ]
    lines.append(summary(findings, files))
    return "\n".join(lines) + "\n"


def to_json(findings: Sequence[Finding]) -> list[dict[str, object]]:
    return [
        {
            "check": f.check,
            "severity": f.severity.value,
            "file": f.location.file,
            "line": f.location.line,
            "column": f.location.column,
            "message": f.message,
            "text": f.text,
        }
        for f in findings
    ]


def as_json(findings: Sequence[Finding]) -> str:
    return orjson.dumps(to_json(findings), option=orjson.OPT_INDENT_2).decode() + "\n"


def render(findings: Sequence[Finding], files: int, output_format: str) -> str:
    if output_format == "github":
        return as_github(findings, files)
    if output_format == "json":
        return as_json(findings)
    return as_text(findings, files)
