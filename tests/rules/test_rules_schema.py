"""The JSON Schema editors use: committed as generated, and every shipped rules file conforms to it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml
from typer.testing import CliRunner

from logmon.cli import app
from logmon.rules.schema import SCHEMA_COMMENT, SCHEMA_PATH, rules_schema, schema_text

REPOSITORY = Path(__file__).resolve().parents[2]

SHIPPED_FILES = sorted((REPOSITORY / "rules").glob("*.yaml"))


class TestCommittedSchema:
    def test_command_prints_the_generated_schema(self) -> None:
        """`logmon schema` prints the schema generated from the rule model."""
        result = CliRunner().invoke(app, ["schema"])
        assert result.exit_code == 0
        assert result.stdout == schema_text()
        assert json.loads(result.stdout) == rules_schema()

    def test_committed_file_equals_the_command_output(self) -> None:
        """schema/rules.schema.json is exactly what `logmon schema` prints; regenerate it when the model changes."""
        committed = (REPOSITORY / SCHEMA_PATH).read_text(encoding="utf-8")
        generated = CliRunner().invoke(app, ["schema"]).stdout
        assert committed == generated, (
            f"{SCHEMA_PATH} is stale: run `.venv/bin/logmon schema > {SCHEMA_PATH}` and commit the result"
        )

    def test_the_schema_is_valid_draft_2020_12(self) -> None:
        """The generated schema is itself a valid JSON Schema for the draft it declares."""
        schema = rules_schema()
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)


class TestShippedFiles:
    def test_there_are_shipped_files(self) -> None:
        """The rules directory holds the team's rules files."""
        assert {path.name for path in SHIPPED_FILES} >= {"monitors.yaml", "indexes.yaml", "pipelines.yaml"}

    @pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda path: path.name)
    def test_file_names_its_schema_on_the_first_line(self, path: Path) -> None:
        """Each rules file starts with the comment that gives editors the schema."""
        first_line = path.read_text(encoding="utf-8").splitlines()[0]
        assert first_line == SCHEMA_COMMENT == "# yaml-language-server: $schema=../schema/rules.schema.json"

    @pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda path: path.name)
    def test_file_validates_against_the_schema(self, path: Path) -> None:
        """Each rules file is valid under the JSON Schema, as an editor would check it."""
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        errors = [
            f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in jsonschema.Draft202012Validator(rules_schema()).iter_errors(document)
        ]
        assert errors == []

    def test_schema_rejects_what_the_model_rejects(self) -> None:
        """Editors flag an unknown key and a missing required key just as the loader does."""
        document = {"monitors": {"m": {"name": "x", "serach": "*", "window": "5m"}}}
        messages = sorted(
            error.message for error in jsonschema.Draft202012Validator(rules_schema()).iter_errors(document)
        )
        assert any("'serach' was unexpected" in message for message in messages), messages
        assert any("'threshold' is a required property" in message for message in messages), messages
