"""The shipped rule tests: they pass against the shipped rules, cover every monitor, and match their schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml
from ruletest_testing import REPOSITORY, SHIPPED_RULES, run_main

from logmon.ruletest import TestReport, coverage, ruletests_schema, ruletests_schema_text
from logmon.ruletest.schema import SCHEMA_COMMENT, SCHEMA_PATH

SHIPPED_TESTS = sorted((SHIPPED_RULES / "tests").glob("*.yaml"))


class TestShippedCasesPass:
    def test_every_shipped_case_passes(self, shipped_report: TestReport) -> None:
        """Every case under rules/tests passes against the rules as written (and their stacks)."""
        assert shipped_report.findings == []
        failures = [f"{case.id}: {failure.message}" for case in shipped_report.cases for failure in case.failures]
        assert failures == []
        assert shipped_report.passed == len(shipped_report.cases) >= 40

    def test_the_command_exits_zero_with_the_summary_last(self) -> None:
        """`logmon test` over the shipped rules prints only the summary line and exits 0."""
        status, output = run_main(SHIPPED_RULES, run="^security/")
        assert status == 0
        assert output == "2 passed, 0 failed\n"

    def test_there_is_a_file_per_monitor_area_and_for_metrics_and_routing(self) -> None:
        """The shipped cases are organised one concern per file."""
        names = {path.stem for path in SHIPPED_TESTS}
        assert names >= {"payments", "fraud", "authentication", "security", "errors", "metrics", "routing"}

    def test_cases_use_a_stack_and_the_rules_as_written(self, shipped_report: TestReport) -> None:
        """Sampling is shown per environment: prod, staging and dev cases all run."""
        ids = {case.id for case in shipped_report.cases}
        assert {
            "routing/routine_lines_are_sampled_in_prod",
            "routing/staging_keeps_half",
            "routing/dev_keeps_every_line",
            "payments/dev_alerts_on_five_a_minute",
        } <= ids


class TestShippedCoverage:
    def test_every_monitor_has_a_firing_and_a_quiet_case(self, shipped_report: TestReport) -> None:
        """Coverage finds no monitor without a case that fires it and one that keeps it quiet."""
        found = coverage(shipped_report)
        assert found.never_fires == []
        assert found.never_quiet == []
        assert not found.has_gaps

    def test_event_types_no_rule_uses_are_listed(self, shipped_report: TestReport) -> None:
        """Coverage names the catalogue events no monitor or metric matches, and not those some rule uses."""
        unused = set(coverage(shipped_report).unused_event_types)
        assert {"cache_operation", "kyc_verification", "user_registration"} <= unused
        assert not unused & {"payment_completion", "fraud_detection", "api_request", "security_incident"}

    def test_an_error_level_sample_makes_its_event_used(self, shipped_report: TestReport) -> None:
        """database_operation is used because its error sample matches high_error_rate's `status:error`."""
        assert "database_operation" not in coverage(shipped_report).unused_event_types


class TestSchema:
    def test_committed_schema_equals_the_generated_one(self) -> None:
        """schema/ruletests.schema.json is exactly what the models generate; regenerate it when they change."""
        committed = (REPOSITORY / SCHEMA_PATH).read_text(encoding="utf-8")
        assert committed == ruletests_schema_text(), (
            f"{SCHEMA_PATH} is stale: write logmon.ruletest.ruletests_schema_text() to it and commit the result"
        )

    def test_the_schema_is_valid_draft_2020_12(self) -> None:
        """The schema is itself a valid JSON Schema of the draft it declares."""
        schema = ruletests_schema()
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)

    def test_the_schema_offers_the_catalogue_event_types(self) -> None:
        """Editors complete `event:` from the logger's catalogue."""
        stream = ruletests_schema()["$defs"]["Stream"]
        assert "payment_completion" in stream["properties"]["event"]["enum"]
        assert json.dumps(stream["oneOf"]) == json.dumps(
            [{"required": ["event"]}, {"required": ["message"]}, {"required": ["raw"]}]
        )

    @pytest.mark.parametrize("path", SHIPPED_TESTS, ids=lambda path: path.name)
    def test_shipped_file_names_its_schema_and_conforms(self, path: Path) -> None:
        """Each shipped test file starts with the schema comment and is valid under the schema."""
        text = path.read_text(encoding="utf-8")
        assert text.splitlines()[0] == SCHEMA_COMMENT
        validator = jsonschema.Draft202012Validator(ruletests_schema())
        errors = [error.message for error in validator.iter_errors(yaml.safe_load(text))]
        assert errors == []
