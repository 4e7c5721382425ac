"""Whatever a test file holds, the runner answers with findings or a report, never an exception."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruletest_testing import SHIPPED_RULES

from logmon.ruletest import TestReport, run_tests
from logmon.ruletest.report import junit, text

KEYS = [
    "tests",
    "a_case",
    "events",
    "expect",
    "event",
    "fields",
    "raw",
    "message",
    "level",
    "count",
    "at",
    "over",
    "every",
    "name",
    "stack",
    "monitors",
    "monitor",
    "state",
    "value",
    "groups",
    "quiet",
    "metrics",
    "metric",
    "tags",
    "routing",
    "index",
    "indexed",
    "excluded",
    "correlation_id",
    "p95",
    "avg",
    "currency",
]
"""Keys a test file may use (and a field name), so generated documents reach deep into validation."""
SCALARS = st.one_of(
    st.sampled_from(
        [
            "payment_completion",
            "api_request",
            "payment_failures",
            "alert",
            "ok",
            "5m",
            "90s",
            "0s",
            "dev",
            "main",
            "logs.payment.attempts",
            "failed",
            "error",
            "nope",
        ]
    ),
    st.integers(min_value=-3, max_value=400),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.none(),
    st.text(max_size=8),
)
DOCUMENTS: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.sampled_from(KEYS), children, max_size=4)
    ),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def tests_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def answer(tests_dir: Path, content: str) -> TestReport:
    path = tests_dir / "case.yaml"
    path.write_text(content, encoding="utf-8")
    report = run_tests(SHIPPED_RULES, tests_dir)
    text(report)
    junit(report)
    return report


def well_formed(report: TestReport) -> bool:
    return all(f.location.line >= 1 and f.location.column >= 1 and f.message for f in report.findings)


class TestArbitraryInput:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.text(max_size=200))
    def test_arbitrary_text(self, tests_dir: Path, content: str) -> None:
        """Any text gives findings (or, if it happens to be a valid file, a report), never a traceback."""
        report = answer(tests_dir, content)
        assert report.findings or report.cases
        assert well_formed(report)

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.dictionaries(st.sampled_from(KEYS), DOCUMENTS, max_size=3))
    def test_documents_made_of_test_file_keys(self, tests_dir: Path, document: dict[str, Any]) -> None:
        """YAML documents built from the format's own keys and values give findings or a report."""
        report = answer(tests_dir, yaml.safe_dump({"tests": {"a_case": document}}))
        assert report.findings or report.cases
        assert well_formed(report)
