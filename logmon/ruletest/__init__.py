"""Rule tests: log lines written by the real logger, fed through the rules, with the outcome they must have.

`rules/tests/*.yaml` hold the cases (see docs/rule-tests.md); `logmon test` runs them.
"""

from logmon.ruletest.cli import main
from logmon.ruletest.coverage import Coverage, coverage
from logmon.ruletest.runner import CaseResult, TestReport, run_tests
from logmon.ruletest.schema import ruletests_schema, ruletests_schema_text

__all__ = [
    "CaseResult",
    "Coverage",
    "TestReport",
    "coverage",
    "main",
    "ruletests_schema",
    "ruletests_schema_text",
    "run_tests",
]
