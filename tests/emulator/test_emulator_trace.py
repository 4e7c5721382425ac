"""Traced processing: the same steps as `process`, with what preprocessing and each processor changed."""

from __future__ import annotations

import copy
from typing import Any

from emulator_testing import rules_from_yaml, shipped_rules

from logmon.emulator import Emulator
from logmon.emulator.trace import difference, snapshot

RULES = """
pipelines:
  first:
    name: first
    filter: "*"
    processors:
      - {type: attribute_remapper, name: Move user, sources: [user], target: usr.id}
      - {type: status_remapper, sources: [sev]}
      - {type: category_processor, target: kind, categories: [{name: never, filter: "@nothing:1"}]}
  second:
    name: second
    filter: "@usr.id:*"
    processors:
      - {type: lookup_processor, source: usr.id, target: usr.team, lookup_table: {"42": core}}
sensitive_data:
  name: group
  filter: "*"
  rules:
    numbers: {name: Numbers, regex: "[0-9]{4}", replacement: {type: replacement_string, replacement_string: "[n]"}}
"""

LINE: dict[str, Any] = {"message": "pin 1234", "user": "42", "sev": "error", "ddsource": "app"}


class TestTrace:
    def test_each_change_is_attributed_to_its_step(self) -> None:
        """Preprocessing, each processor and the scanner rule that changed something appear in order; a
        processor that changed nothing does not."""
        _, trace = Emulator(rules_from_yaml(RULES)).process_traced(dict(LINE))
        steps = [(entry.label.kind, entry.label.pipeline, entry.label.processor) for entry in trace]
        assert steps == [
            ("preprocessing", None, None),
            ("pipeline", "first", 1),
            ("pipeline", "first", 2),
            ("pipeline", "second", 1),
            ("scanner", None, "numbers"),
        ]
        assert trace[1].changes == {
            "@user": {"before": "42", "after": None},
            "@usr.id": {"before": None, "after": "42"},
        }
        assert trace[1].label.name == "Move user"
        assert trace[2].changes == {"status": {"before": "info", "after": "error"}}
        assert trace[4].changes == {"message": {"before": "pin 1234", "after": "pin [n]"}}

    def test_preprocessing_shows_the_reserved_attributes_it_read(self) -> None:
        """The first entry shows `ddsource` leaving the attributes for `source`."""
        _, trace = Emulator(rules_from_yaml(RULES)).process_traced(dict(LINE))
        changes = trace[0].changes
        assert changes["@ddsource"] == {"before": "app", "after": None}
        assert changes["source"]["after"] == "app"

    def test_traced_and_untraced_give_the_same_log(self) -> None:
        """Tracing does not change the result, with the shipped rules on a logger line."""
        emulator = Emulator(shipped_rules())
        line = {"event": "x", "message": "m", "logger": "a.b", "level": "warning", "email": "a@b.com", "n": 3}
        plain = emulator.process(copy.deepcopy(line))
        traced, _ = emulator.process_traced(copy.deepcopy(line))
        assert snapshot(plain) == snapshot(traced)

    def test_difference_tells_a_number_from_a_boolean(self) -> None:
        """`1` becoming `True` is a change although they compare equal in Python."""
        assert difference({"@a": 1}, {"@a": True}) == {"@a": {"before": 1, "after": True}}

    def test_to_json_names_every_key(self) -> None:
        """Each entry serializes with step, pipeline, processor, type, name and changes."""
        _, trace = Emulator(rules_from_yaml(RULES)).process_traced(dict(LINE))
        assert set(trace[1].to_json()) == {"step", "pipeline", "processor", "type", "name", "changes"}
        assert trace[1].to_json()["type"] == "attribute_remapper"
