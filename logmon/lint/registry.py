"""Named checks: each has a stable name, a severity and a one-line summary, and yields findings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from logmon.diagnostics import Finding, Location, Severity

if TYPE_CHECKING:
    from logmon.lint.context import LintContext

CheckFunction = Callable[["LintContext"], Iterator[Finding]]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    severity: Severity
    summary: str
    run: CheckFunction

    def finding(self, location: Location, message: str, text: str | None = None) -> Finding:
        return Finding(self.name, self.severity, location, message, text)


CHECKS: dict[str, Check] = {}


def check(name: str, severity: Severity, summary: str) -> Callable[[CheckFunction], Check]:
    """Register a check; the decorated function receives the context and yields findings."""

    def register(function: CheckFunction) -> Check:
        if name in CHECKS:
            raise ValueError(f"check {name} registered twice")
        registered = Check(name, severity, summary, function)
        CHECKS[name] = registered
        return registered

    return register
