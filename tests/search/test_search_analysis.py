"""The questions lint asks of a query: which fields it reads, and where AND and OR mix unclearly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logmon.logrecord import LogRecord
from logmon.search import (
    And,
    Comparison,
    Exists,
    FieldKind,
    FieldRef,
    Or,
    Span,
    Term,
    ambiguous_precedence,
    iter_field_terms,
    matches,
    parse,
    requires_attribute,
)


def fields(text: str) -> list[tuple[FieldKind, str, str, bool]]:
    """(kind, path, the leaf's text, negated) for each leaf."""
    return [(t.field.kind, t.field.path, t.span.text(text), t.negated) for t in iter_field_terms(parse(text))]


class TestIterFieldTerms:
    def test_kinds_and_paths(self) -> None:
        """Each leaf reports its field kind and path, in text order."""
        text = "@event_type:payment_completion service:payments env:prod *:oops hello"
        assert fields(text) == [
            (FieldKind.ATTRIBUTE, "event_type", "@event_type:payment_completion", False),
            (FieldKind.RESERVED, "service", "service:payments", False),
            (FieldKind.TAG, "env", "env:prod", False),
            (FieldKind.ANY_ATTRIBUTE, "*", "*:oops", False),
            (FieldKind.FREE_TEXT, "", "hello", False),
        ]

    def test_the_seed_defect_is_visible(self) -> None:
        """`event_type:x` without @ is reported as a tag, which is how lint spots it."""
        (term,) = iter_field_terms(parse("event_type:payment_completion"))
        assert term.field == FieldRef(FieldKind.TAG, "event_type")
        assert term.field.span == Span(0, 10)

    def test_polarity(self) -> None:
        """A leaf under an odd number of NOT or `-` is negated; under an even number it is not."""
        text = "-@a:* NOT (@b:1 OR -@c:2) NOT NOT @d:3"
        assert [(path, negated) for _, path, _, negated in fields(text)] == [
            ("a", True),
            ("b", True),
            ("c", False),
            ("d", False),
        ]

    def test_every_leaf_type(self) -> None:
        """Terms, presence, comparisons, ranges and CIDR all count as field terms, with their nodes."""
        text = "@a:x @b:* @c:>1 @d:[1 TO 2] CIDR(@e, 10.0.0.0/8)"
        terms = list(iter_field_terms(parse(text)))
        assert [type(t.node).__name__ for t in terms] == ["Term", "Exists", "Comparison", "Range", "Cidr"]
        assert [t.field.path for t in terms] == ["a", "b", "c", "d", "e"]
        assert isinstance(terms[1].node, Exists)
        assert isinstance(terms[2].node, Comparison)

    def test_value_group_leaves_carry_the_field(self) -> None:
        """Inside `field:( )` every value is reported with that field and its own span."""
        text = "status:(error OR -critical)"
        assert fields(text) == [
            (FieldKind.RESERVED, "status", "error", False),
            (FieldKind.RESERVED, "status", "critical", True),
        ]

    def test_match_all_has_no_field(self) -> None:
        """`*` and the empty query have no field terms."""
        assert list(iter_field_terms(parse("*"))) == []
        assert list(iter_field_terms(parse(""))) == []


class TestAmbiguousPrecedence:
    @pytest.mark.parametrize(
        ("text", "spans"),
        [
            ("a OR b c", ["a OR b c"]),
            ("a AND b OR c", ["a AND b OR c"]),
            ("a b OR c d", ["a b OR c d"]),
            ("a OR NOT b c", ["a OR NOT b c"]),
            ("x (a OR b c)", ["a OR b c"]),
            ("status:(error OR warn critical)", ["error OR warn critical"]),
        ],
    )
    def test_mixed_levels_are_reported(self, text: str, spans: list[str]) -> None:
        """AND, written or implied, next to OR without parentheses is reported with its extent."""
        assert [span.text(text) for span in ambiguous_precedence(parse(text))] == spans

    @pytest.mark.parametrize(
        "text",
        ["a OR b OR c", "a b AND c", "(a OR b) c", "a OR (b c)", "a", "", "NOT (a OR b) c", "@a:(x OR y) z"],
    )
    def test_clear_queries_are_not(self, text: str) -> None:
        """Only one operator per level, or parentheses around the mix, is clear."""
        assert ambiguous_precedence(parse(text)) == []

    def test_each_level_reported_once_in_order(self) -> None:
        """Two mixed levels give two spans, sorted by position."""
        text = "(a OR b c) OR d e"
        assert [span.text(text) for span in ambiguous_precedence(parse(text))] == [text, "a OR b c"]

    def test_code_built_or_under_and(self) -> None:
        """An OR placed directly under an AND in code is reported too."""
        a, b, c = (Term(FieldRef(FieldKind.FREE_TEXT, ""), (name,)) for name in "abc")
        tree = And((Or((a, b), span=Span(0, 6)), c), implicit=True, span=Span(0, 8))
        assert ambiguous_precedence(tree) == [Span(0, 8)]


class TestRequiresAttribute:
    @pytest.mark.parametrize(
        "text",
        [
            "@correlation_id:*",
            "@correlation_id:req-1",
            "@correlation_id:req-*",
            "@correlation_id.parent:x",
            "@correlation_id:(a OR b)",
            "service:payments AND (@correlation_id:a OR @correlation_id:b)",
            "-status:error @correlation_id:* -@event_type:x",
            "(@correlation_id:*)",
        ],
    )
    def test_a_positive_conjunct_proves_presence(self, text: str) -> None:
        """A positive clause on the attribute, as a conjunct or in every OR branch, proves the log carries it."""
        assert requires_attribute(parse(text), "correlation_id")

    @pytest.mark.parametrize(
        "text",
        [
            "*",
            "",
            "-@event_type:x -status:error",
            "-@correlation_id:*",
            "NOT @correlation_id:a",
            "@correlation_id:* OR service:x",
            "correlation_id:x",
            "@correlation_idx:*",
            "req-1",
            "@correlation_id:(-a)",
        ],
    )
    def test_anything_else_proves_nothing(self, text: str) -> None:
        """Negations, tags, free text, other attributes and partial ORs leave the attribute possibly absent."""
        assert not requires_attribute(parse(text), "correlation_id")

    @given(
        clauses=st.lists(
            st.sampled_from(
                [
                    "@correlation_id:*",
                    "@correlation_id:a",
                    "-@correlation_id:*",
                    "-@correlation_id:a",
                    "@correlation_id:(a OR b)",
                    "@event_type:x",
                    "-@event_type:x",
                    "service:p",
                    "(@correlation_id:b OR service:p)",
                    "(@correlation_id:a OR @correlation_id.parent:*)",
                ]
            ),
            min_size=1,
            max_size=4,
        ),
        joiner=st.sampled_from([" ", " AND ", " OR "]),
        attributes=st.fixed_dictionaries(
            {},
            optional={
                "correlation_id": st.sampled_from(["a", "b", "c"]),
                "event_type": st.sampled_from(["x", "y"]),
            },
        ),
        service=st.sampled_from(["p", "q"]),
    )
    def test_never_claims_presence_wrongly(
        self, clauses: list[str], joiner: str, attributes: dict[str, str], service: str
    ) -> None:
        """Whenever the attribute is said to be required, no log without it matches the query."""
        query = parse(joiner.join(clauses))
        if requires_attribute(query, "correlation_id"):
            log = LogRecord(attributes=attributes, service=service)
            assert "correlation_id" in attributes or not matches(query, log)
