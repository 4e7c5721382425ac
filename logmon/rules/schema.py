"""The JSON Schema editors use to complete and check `rules/*.yaml` as people type."""

from __future__ import annotations

import json
from typing import Any

from logmon.rules.model import RulesFile

SCHEMA_PATH = "schema/rules.schema.json"
SCHEMA_COMMENT = f"# yaml-language-server: $schema=../{SCHEMA_PATH}"


def rules_schema() -> dict[str, Any]:
    schema = RulesFile.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://logmon.invalid/schema/rules.schema.json",
        "title": "logmon rules file",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def schema_text() -> str:
    return json.dumps(rules_schema(), indent=2, ensure_ascii=False) + "\n"
