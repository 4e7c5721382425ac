"""Where a problem is and what it is: the one shape every loader error and lint finding takes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True, order=True)
class Location:
    file: str
    line: int
    """1-based."""
    column: int
    """1-based."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    """A stable name such as `query/tag-vs-attribute` or `yaml/duplicate-key`."""
    severity: Severity
    location: Location
    message: str
    """What is wrong and how to fix it, in one sentence or two."""
    text: str | None = None
    """The offending text as written, when there is one."""

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.location.file, self.location.line, self.location.column, self.check)


class RulesInvalid(Exception):
    """Rules that cannot be loaded; every finding says where and why."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = sorted(findings, key=Finding.sort_key)
        super().__init__("\n".join(f"{f.location}: {f.severity} {f.check}: {f.message}" for f in self.findings))
