"""The JSON Schema editors use to complete and check `rules/tests/*.yaml`, generated from the models."""

from __future__ import annotations

import json
from typing import Any

from logmon.ruletest.model import RuleTestFile

SCHEMA_PATH = "schema/ruletests.schema.json"
SCHEMA_COMMENT = f"# yaml-language-server: $schema=../../{SCHEMA_PATH}"


def ruletests_schema() -> dict[str, Any]:
    schema = RuleTestFile.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://logmon.invalid/schema/ruletests.schema.json",
        "title": "logmon rule tests file",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def ruletests_schema_text() -> str:
    return json.dumps(ruletests_schema(), indent=2, ensure_ascii=False) + "\n"
