"""Positions inside values: `where(field)` for a field and `position_in(field, offset)` for a character of a
query, whatever YAML style the query is written in."""

from __future__ import annotations

from logmon.diagnostics import Location
from logmon.rules import parse_rules_text
from logmon.rules.model import Index

TARGET = "@currency:USD"


def index_with_filter(yaml_value: str) -> tuple[str, Index]:
    """A rules file whose one index has `filter:` written as `yaml_value` (which may span lines)."""
    text = f"indexes:\n  payments:\n    daily_limit: 1000\n    filter: {yaml_value}\n    flex_only: false\n"
    return text, parse_rules_text(text, "rules/indexes.yaml").indexes["payments"]


def character_at(text: str, location: Location) -> str:
    """The source text from `location` to the end of its line."""
    return text.splitlines()[location.line - 1][location.column - 1 :]


class TestWhere:
    def test_a_field_points_at_its_value(self) -> None:
        """`where(field)` is the first character of the value as written, quote included."""
        _, index = index_with_filter('"@event_type:payment_completion"')
        assert index.where("filter") == Location("rules/indexes.yaml", 4, 13)
        assert index.where("daily_limit") == Location("rules/indexes.yaml", 3, 18)

    def test_the_model_points_at_its_mapping(self) -> None:
        """`where()` is the mapping's first key; unwritten fields fall back to it."""
        _, index = index_with_filter('"*"')
        assert index.where() == Location("rules/indexes.yaml", 3, 5)
        assert index.where("retention_days") == index.where()

    def test_a_block_value_points_at_its_indicator(self) -> None:
        """A block scalar's field position is its `|` or `>` indicator."""
        _, index = index_with_filter("|\n      @event_type:payment_completion\n")
        assert index.where("filter") == Location("rules/indexes.yaml", 4, 13)


class TestPositionIn:
    def test_plain_scalar(self) -> None:
        """In an unquoted value, offset N is N columns right of the value's start."""
        text, index = index_with_filter(f"status:error {TARGET}")
        assert index.position_in("filter", 0) == index.where("filter")
        location = index.position_in("filter", index.filter.index(TARGET))
        assert location == Location("rules/indexes.yaml", 4, 26)
        assert character_at(text, location).startswith(TARGET)

    def test_double_quoted_scalar(self) -> None:
        """In a double-quoted value, the opening quote is skipped."""
        text, index = index_with_filter(f'"status:error {TARGET}"')
        location = index.position_in("filter", index.filter.index(TARGET))
        assert location == Location("rules/indexes.yaml", 4, 27)
        assert character_at(text, location).startswith(TARGET)
        assert index.position_in("filter", 0) == Location("rules/indexes.yaml", 4, 14)

    def test_double_quoted_escapes(self) -> None:
        """Escapes (`\\"`, `\\t`, `\\x..`, `\\u....`) take their written width, not one character."""
        text, index = index_with_filter(f'"@note:\\"a\\tb\\" @x:\\u00e9\\x41 {TARGET}"')
        assert index.filter == f'@note:"a\tb" @x:éA {TARGET}'
        location = index.position_in("filter", index.filter.index(TARGET))
        assert character_at(text, location).startswith(TARGET)
        after_escape = index.position_in("filter", index.filter.index("b"))
        assert character_at(text, after_escape).startswith('b\\"')

    def test_single_quoted_scalar_with_doubled_quotes(self) -> None:
        """In a single-quoted value, `''` is one character of the value and two of the source."""
        text, index = index_with_filter(f"'@merchant:''o''brien'' {TARGET}'")
        assert index.filter == f"@merchant:'o'brien' {TARGET}"
        location = index.position_in("filter", index.filter.index(TARGET))
        assert character_at(text, location).startswith(TARGET)
        brien = index.position_in("filter", index.filter.index("brien"))
        assert character_at(text, brien).startswith("brien''")

    def test_literal_block_scalar(self) -> None:
        """In a `|` block, offsets after a newline land on the next line, past the block's indentation."""
        text, index = index_with_filter(f"|\n      @event_type:payment_completion\n        {TARGET}\n")
        assert index.filter == f"@event_type:payment_completion\n  {TARGET}\n"
        location = index.position_in("filter", index.filter.index(TARGET))
        assert location == Location("rules/indexes.yaml", 6, 9)
        assert character_at(text, location).startswith(TARGET)
        assert index.position_in("filter", 0) == Location("rules/indexes.yaml", 5, 7)

    def test_folded_block_scalar(self) -> None:
        """In a `>-` block, folded line breaks still map back to the line they were written on."""
        text, index = index_with_filter(f">-\n      @event_type:payment_completion\n      {TARGET}\n")
        assert index.filter == f"@event_type:payment_completion {TARGET}"
        location = index.position_in("filter", index.filter.index(TARGET))
        assert location == Location("rules/indexes.yaml", 6, 7)
        assert character_at(text, location).startswith(TARGET)

    def test_field_without_a_scalar_falls_back_to_the_field(self) -> None:
        """A field that was not written as a scalar (or not at all) answers with its `where`."""
        _, index = index_with_filter('"*"')
        assert index.position_in("retention_days", 3) == index.where()

    def test_shipped_exclusion_filter_terms_are_found(self) -> None:
        """Every term of a folded multi-line filter maps to the line it is written on."""
        text = (
            "indexes:\n  main:\n    exclusion_filters:\n      - name: sample-routine\n        filter: >-\n"
            "          -@event_type:(security_incident OR fraud_detection)\n"
            "          -status:(warning OR error)\n        sample_rate: 0.9\n"
        )
        exclusion = parse_rules_text(text, "rules/indexes.yaml").indexes["main"].exclusion_filters[0]
        for term in ("-@event_type", "fraud_detection", "-status", "error)"):
            location = exclusion.position_in("filter", exclusion.filter.index(term))
            assert character_at(text, location).startswith(term), term
