"""Replay sees what Datadog stores: the scanner's redaction, and exclusion filters that sample by an attribute
only for the logs that carry it."""

from __future__ import annotations

import textwrap

import orjson

from logmon.replay import Replay
from logmon.rules.loader import rules_from_text

RULES = """
indexes:
  main:
    filter: "*"
    exclusion_filters:
      - {name: by-request, filter: "*", sample_rate: 1.0, sample_attribute: "@request_id"}
metrics:
  logs.by.owner:
    compute: count
    group_by: ["@owner"]
sensitive_data:
  name: group
  filter: "*"
  rules:
    emails:
      name: emails
      regex: '[a-z]+@[a-z]+\\.com'
      replacement: {type: replacement_string, replacement_string: "[email]"}
"""


def replayed(*documents: dict[str, object]) -> dict[str, object]:
    run = Replay(rules_from_text(textwrap.dedent(RULES), "inline.yaml"))
    return run.run(orjson.dumps(document) + b"\n" for document in documents)


class TestReplaySampleAttribute:
    def test_only_logs_with_the_attribute_are_sampled(self) -> None:
        """A 100 % filter by `@request_id` drops the logs with a request ID and indexes the others."""
        report = replayed(
            {"message": "a", "request_id": "r1"},
            {"message": "b", "request_id": "r2"},
            {"message": "c"},
        )
        assert report["indexes"] == {"main": {"matched": 3, "indexed": 1, "excluded": 2}}


class TestReplayScanner:
    def test_metrics_count_the_redacted_value(self) -> None:
        """A metric grouped by an attribute the scanner redacts counts the redacted value, as Datadog would."""
        report = replayed({"message": "x", "owner": "jane@example.com"}, {"message": "y", "owner": "ops"})
        metric = report["metrics"]["logs.by.owner"]  # type: ignore[index]
        groups = {tuple(sorted(group["tags"].values())): group for group in metric["groups"]}
        assert ("[email]",) in groups
        assert ("jane@example.com",) not in groups
