"""Parsing Datadog log search syntax: the tree it builds, the errors it reports, and the round trip."""

from __future__ import annotations

import ipaddress
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from logmon.logrecord import RESERVED_ATTRIBUTES, LogRecord
from logmon.search import (
    And,
    Cidr,
    Comparison,
    Exists,
    FieldGroup,
    FieldKind,
    FieldRef,
    Group,
    MatchAll,
    Node,
    Not,
    Or,
    Query,
    Range,
    SearchSyntaxError,
    Span,
    Term,
    Wildcard,
    compile_query,
    parse,
    unparse,
)
from logmon.search.glob import Glob
from logmon.search.parser import MAX_DEPTH


def attribute(path: str) -> FieldRef:
    return FieldRef(FieldKind.ATTRIBUTE, path)


def tag(key: str) -> FieldRef:
    return FieldRef(FieldKind.TAG, key)


def reserved(name: str) -> FieldRef:
    return FieldRef(FieldKind.RESERVED, name)


FREE = FieldRef(FieldKind.FREE_TEXT, "")
ANY = FieldRef(FieldKind.ANY_ATTRIBUTE, "*")


def word(text: str, field: FieldRef = FREE) -> Term:
    return Term(field, (text,))


class TestShapes:
    def test_attribute_term(self) -> None:
        """`@a.b:x` is a term on the nested attribute path a.b."""
        assert parse("@a.b:x").root == Term(attribute("a.b"), ("x",))

    def test_reserved_tag_and_any(self) -> None:
        """Bare reserved names are reserved attributes, other bare keys tags, `*:` every attribute."""
        assert parse("service:web").root == word("web", reserved("service"))
        assert parse("event_type:x").root == word("x", tag("event_type"))
        assert parse("*:hello").root == word("hello", ANY)
        assert {name: parse(f"{name}:x").root.field.kind for name in RESERVED_ATTRIBUTES} == dict.fromkeys(  # type: ignore[union-attr]
            RESERVED_ATTRIBUTES, FieldKind.RESERVED
        )

    def test_free_text_and_phrase(self) -> None:
        """Words and quoted phrases without a field are free text."""
        assert parse("hello").root == word("hello")
        phrase = parse('"hello world"').root
        assert phrase == Term(FREE, ("hello world",), quoted=True)
        assert isinstance(phrase, Term)
        assert phrase.raw == '"hello world"'

    def test_implicit_and_explicit_and(self) -> None:
        """Juxtaposition is an implicit AND; `AND` and `&&` are explicit."""
        assert parse("a b").root == And((word("a"), word("b")), implicit=True)
        assert parse("a AND b").root == And((word("a"), word("b")), implicit=False)
        assert parse("a && b").root == parse("a AND b").root

    def test_and_binds_tighter_than_or(self) -> None:
        """`a OR b c` is `a OR (b AND c)`."""
        assert parse("a OR b c").root == Or((word("a"), And((word("b"), word("c")), implicit=True)))
        assert parse("a || b").root == Or((word("a"), word("b")))

    def test_mixed_and_kinds_nest_left_to_right(self) -> None:
        """`a b AND c` keeps both spellings: the implicit pair is the first operand of the explicit AND."""
        inner = And((word("a"), word("b")), implicit=True)
        assert parse("a b AND c").root == And((inner, word("c")), implicit=False)

    def test_not_binds_to_the_next_clause(self) -> None:
        """`NOT a b` negates a only; `-` and `NOT` are recorded as written."""
        assert parse("NOT a b").root == And((Not(word("a")), word("b")), implicit=True)
        assert parse("-@a:*").root == Not(Exists(attribute("a")), dash=True)
        assert parse("NOT(a)").root == Not(Group(word("a")))

    def test_value_group(self) -> None:
        """`field:(a OR b)` keeps the group and gives every value the field."""
        status = reserved("status")
        assert parse("status:(error OR critical)").root == FieldGroup(
            status, Or((word("error", status), word("critical", status)))
        )
        assert parse("@a:(>5 OR -x)").root == FieldGroup(
            attribute("a"),
            Or((Comparison(attribute("a"), ">", 5), Not(word("x", attribute("a")), dash=True))),
        )

    def test_wildcards(self) -> None:
        """Unquoted `*` and `?` are wildcards; quoted or escaped they are characters."""
        term = parse("@a:we?b*").root
        assert isinstance(term, Term)
        assert term.pattern == ("we", Wildcard.ONE, "b", Wildcard.STAR)
        assert term.has_wildcards
        assert term.value == "we?b*"
        assert not parse('@a:"we*"').root.has_wildcards  # type: ignore[union-attr]
        assert parse("@a:we\\*").root == word("we*", attribute("a"))

    def test_exists_and_match_all(self) -> None:
        """`field:*` is presence; `*`, `*:*` and blank text match everything."""
        assert parse("@a:*").root == Exists(attribute("a"))
        assert parse("env:*").root == Exists(tag("env"))
        for text in ("", "   ", "\t\n", "*", "*:*"):
            assert parse(text).root == MatchAll()

    def test_comparisons(self) -> None:
        """Comparison operators with integers, negative numbers, decimals and exponents."""
        cases = {
            "@a:>100": (">", 100),
            "@a:>=-5": (">=", -5),
            "@a:<2.5": ("<", 2.5),
            "@a:<=4.1E-4": ("<=", 4.1e-4),
            '@a:>"7"': (">", 7),
        }
        for text, (op, value) in cases.items():
            node = parse(text).root
            assert node == Comparison(attribute("a"), op, value)  # type: ignore[arg-type]
            assert isinstance(node, Comparison)
            assert type(node.value) is type(value)

    def test_ranges(self) -> None:
        """`[ ]` is inclusive, `{ }` exclusive, `*` an open end."""
        assert parse("@a:[400 TO 499]").root == Range(attribute("a"), 400, 499, inclusive=True)
        assert parse("@a:{1.5 TO 2}").root == Range(attribute("a"), 1.5, 2, inclusive=False)
        assert parse("@a:[* TO 5]").root == Range(attribute("a"), None, 5)
        assert parse("@a:[5 TO 5]").root == Range(attribute("a"), 5, 5)

    def test_cidr(self) -> None:
        """CIDR() takes an attribute and one or more IPv4 or IPv6 networks."""
        node = parse("CIDR(@network.ip.list,13.0.0.0/8, 2001:db8::/32)").root
        assert node == Cidr(
            attribute("network.ip.list"),
            (ipaddress.ip_network("13.0.0.0/8"), ipaddress.ip_network("2001:db8::/32")),
        )

    def test_escapes(self) -> None:
        """A backslash makes the next character literal, in words, values, phrases and field names."""
        assert parse("a\\:b").root == word("a:b")
        assert parse("@a:x\\ y").root == word("x y", attribute("a"))
        assert parse('@a:"say \\"hi\\" \\\\o/"').root == Term(attribute("a"), ('say "hi" \\o/',), quoted=True)
        assert parse("my\\ tag:x").root == word("x", tag("my tag"))

    def test_keywords_are_upper_case_words_alone(self) -> None:
        """`and`, `ANDROID` and `TO` outside a range are ordinary words."""
        assert parse("ANDROID and TO").root == And((word("ANDROID"), word("and"), word("TO")), implicit=True)
        assert parse("orNOT").root == word("orNOT")

    def test_value_may_start_with_minus_after_a_colon(self) -> None:
        """Right after `field:`, a leading `-` belongs to the value."""
        assert parse("@delta:-5").root == word("-5", attribute("delta"))
        assert parse("hello-world").root == word("hello-world")

    def test_spans(self) -> None:
        """Every node records the characters it came from."""
        text = "foo AND -@bar.baz:qux*"
        query = parse(text)
        root = query.root
        assert isinstance(root, And)
        left, right = root.children
        assert isinstance(right, Not)
        assert (root.span, left.span, right.span, right.child.span) == (
            Span(0, 22),
            Span(0, 3),
            Span(8, 22),
            Span(9, 22),
        )
        leaf = right.child
        assert isinstance(leaf, Term)
        assert leaf.field.span.text(text) == "@bar.baz"
        assert leaf.raw == "@bar.baz:qux*"
        group = parse("x (a OR b)").root
        assert isinstance(group, And)
        assert group.children[1].span == Span(2, 10)

    def test_spans_inside_value_group(self) -> None:
        """Inside `field:( )` each value's span is the value itself; the field span is the field name."""
        text = "status:(error OR warn)"
        node = parse(text).root
        assert isinstance(node, FieldGroup)
        assert node.field.span.text(text) == "status"
        assert isinstance(node.child, Or)
        assert [child.span.text(text) for child in node.child.children] == ["error", "warn"]

    def test_equality_ignores_spelling(self) -> None:
        """Spans and raw text are not part of equality; structure is."""
        assert parse("a   AND   b") == parse("a AND b")
        assert parse('@a:"x"') != parse("@a:x")


class TestErrors:
    @pytest.mark.parametrize(
        ("text", "column", "message", "hint"),
        [
            ("(a OR b", 1, "unclosed parenthesis", "add the matching ')'"),
            ("a OR b)", 7, "unmatched ')'", "remove it"),
            ("()", 2, "empty parentheses", "put a search inside"),
            ("a OR", 3, "nothing after 'OR'", "finish the expression"),
            ("AND a", 1, "operator with nothing before it", "both sides"),
            ("a AND OR b", 7, "two operators in a row", "remove one"),
            ("a -", 3, "nothing after '-'", "finish the expression"),
            ("@:x", 1, "'@' needs an attribute name", "@http.status_code:500"),
            ("@foo", 1, "an attribute needs a value", "@name:*"),
            ('@a:"abc', 4, "unterminated quote", 'another "'),
            ("a \\", 3, "backslash at the end", "remove it"),
            ("\u201chi\u201d", 1, "curly quotation mark", "straight double quotes"),
            ("@url:http://x", 10, "unescaped ':' inside a value", "\\:"),
            ("service*:x", 9, "wildcards are not allowed in field names", "*:value"),
            ("@a: x", 4, "space after '@a:'", "right after the colon"),
            ("a:", 2, "'a:' has no value", "field:*"),
            ("@a:[1 TO]", 7, "range needs the form", "[400 TO 499]"),
            ("@a:[1 5]", 7, "range needs the form", "[400 TO 499]"),
            ("@a:[1 TO 5", 4, "unclosed range", "']'"),
            ("@a:[1 TO 5}", 11, "both ends", "[low TO high]"),
            ("@a:[5 TO 1]", 4, "matches nothing", "lower bound first"),
            ("@a:[a TO z]", 5, "a range bound needs a number", "numeric values only"),
            ("@duration:>20ms", 12, "a comparison needs a number", "units"),
            ("@a:>>5", 5, "a comparison needs a number", "@duration:>100"),
            ("a >5", 3, "a comparison needs a field", "@duration:>100"),
            ("[1 TO 2]", 1, "a range needs a field", "[400 TO 499]"),
            ("*:>5", 1, "cannot be compared numerically", "name the attribute"),
            ("@a:=5", 4, "'=' is not an operator", "field:value"),
            ("CIDR(network.ip, 10.0.0.0/8)", 6, "CIDR() takes an attribute first", "needs its @"),
            ("CIDR(@ip)", 9, "at least one network", "10.0.0.0/8"),
            ("CIDR(@ip, 10.0.0.0/33)", 11, "is not a CIDR block", "10.0.0.0/8"),
            ("CIDR(@ip, bogus)", 11, "is not a CIDR block", "IPv4 or IPv6"),
            ("@a..b:c", 1, "empty segment in attribute path", "@parent.child"),
            ("a !b", 3, "special character '!'", "escape it"),
            ("#calc:1", 1, "calculated fields", "\\#"),
            ("_exists_:@a", 1, "_exists_: is not in Datadog's log search syntax", "@attr:*"),
            ("NOT _missing_:env", 5, "_missing_: is not in Datadog's log search syntax", "-@attr:*"),
            ("_default_:hello", 1, "_default_: is not in Datadog's log search syntax", "bare word"),
            ("a _exists_:(b OR c)", 3, "_exists_: is not in", "@attr:*"),
        ],
    )
    def test_bad_query(self, text: str, column: int, message: str, hint: str) -> None:
        """A malformed query names the problem, the column, and a fix."""
        with pytest.raises(SearchSyntaxError) as caught:
            parse(text)
        error = caught.value
        assert (error.column, error.position) == (column, column - 1)
        assert message in error.message
        assert error.hint is not None
        assert hint in error.hint
        assert error.text == text
        assert f"column {column}" in str(error)
        assert "\n" not in str(error)

    def test_caret_points_at_the_column(self) -> None:
        """`caret()` draws the query with a marker under the offending character."""
        with pytest.raises(SearchSyntaxError) as caught:
            parse("a OR b)")
        assert caught.value.caret() == "a OR b)\n      ^"

    def test_long_query_message_is_an_excerpt(self) -> None:
        """A long query is shortened around the problem so the message stays one readable line."""
        text = "a " * 100 + ")"
        with pytest.raises(SearchSyntaxError) as caught:
            parse(text)
        assert len(str(caught.value)) < 200
        assert caught.value.position == len(text) - 1

    def test_deep_nesting_is_refused(self) -> None:
        """Nesting beyond the limit is a syntax error, not a crash."""
        for text in ("(" * (MAX_DEPTH + 5) + "a" + ")" * (MAX_DEPTH + 5), "NOT " * (MAX_DEPTH + 5) + "a"):
            with pytest.raises(SearchSyntaxError, match="nests too deeply"):
                parse(text)
        assert parse("(" * 20 + "a" + ")" * 20).root == _nested_groups(word("a"), 20)

    def test_enormous_number(self) -> None:
        """A number with more digits than Python converts is a syntax error, not a crash."""
        with pytest.raises(SearchSyntaxError, match="needs a number"):
            parse("@a:>" + "9" * 5000)
        assert parse("@a:" + "9" * 5000).root == word("9" * 5000, attribute("a"))

    def test_not_text(self) -> None:
        """Non-text input is a SearchSyntaxError too."""
        with pytest.raises(SearchSyntaxError):
            parse(None)  # type: ignore[arg-type]

    def test_is_a_value_error(self) -> None:
        """Callers may catch ValueError."""
        assert issubclass(SearchSyntaxError, ValueError)


def _nested_groups(node: Node, depth: int) -> Node:
    for _ in range(depth):
        node = Group(node)
    return node


class TestUnparse:
    @pytest.mark.parametrize(
        ("text", "canonical"),
        [
            ("a   and    b", "a and b"),
            ("a && b || c", "a AND b OR c"),
            ("NOT(CIDR(@ip,1.2.3.4/32))", "NOT (CIDR(@ip, 1.2.3.4/32))"),
            ("@a:-5", "@a:\\-5"),
            ("hello TO", "hello \\TO"),
            ('@a:"x \\"y\\""', '@a:"x \\"y\\""'),
            ("@a:{1 TO *}", "@a:{1 TO *}"),
            ("status:(error OR warn)", "status:(error OR warn)"),
            ("", "*"),
        ],
    )
    def test_canonical_text(self, text: str, canonical: str) -> None:
        """unparse writes single spaces, upper-case operators and only the escapes needed."""
        assert unparse(parse(text)) == canonical

    def test_code_built_trees_get_needed_parentheses(self) -> None:
        """A tree no text produces (OR right under AND) is written with parentheses that keep its meaning."""
        tree = And((Or((word("a"), word("b"))), word("c")), implicit=True)
        text = unparse(tree)
        assert text == "(a OR b) c"
        record = LogRecord(message="a")
        assert compile_query(tree)(record) == compile_query(parse(text))(record)


# --- generated trees -----------------------------------------------------------------------------------

ALPHABET = 'abcXYZ09_ .-:*?\\"()[]{}<>=!+@#&|,~^/\u00e9\u201c\t'
literal_text = st.text(alphabet=ALPHABET, min_size=1, max_size=8)
path_segment = st.text(alphabet="abz09_-:* @\\", min_size=1, max_size=5)
attribute_refs = st.lists(path_segment, min_size=1, max_size=3).map(lambda parts: attribute(".".join(parts)))
tag_refs = (
    st.text(alphabet="abcz09_-./ :", min_size=1, max_size=6)
    .filter(lambda key: key not in RESERVED_ATTRIBUTES and key != "*")
    .map(tag)
)
reserved_refs = st.sampled_from(sorted(RESERVED_ATTRIBUTES)).map(reserved)
named_fields = st.one_of(attribute_refs, tag_refs, reserved_refs)
numbers = st.one_of(st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6, allow_nan=False))


@st.composite
def patterns(draw: st.DrawFn) -> tuple[str | Wildcard, ...]:
    parts = draw(st.lists(st.one_of(literal_text, st.sampled_from(Wildcard)), min_size=1, max_size=4))
    merged: list[str | Wildcard] = []
    for part in parts:
        if merged and isinstance(part, str) and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    assume(merged != [Wildcard.STAR])
    return tuple(merged)


def terms(field: FieldRef) -> st.SearchStrategy[Node]:
    unquoted = patterns().map(lambda pattern: Term(field, pattern))
    quoted = st.text(alphabet=ALPHABET, max_size=8).map(lambda text: Term(field, (text,) if text else (), True))
    return st.one_of(unquoted, quoted)


@st.composite
def ranges(draw: st.DrawFn, field: FieldRef) -> Node:
    low, high = sorted([draw(numbers), draw(numbers)])
    inclusive = draw(st.booleans())
    assume(inclusive or low != high)
    return Range(field, draw(st.sampled_from([low, None])), draw(st.sampled_from([high, None])), inclusive)


def values(field: FieldRef) -> st.SearchStrategy[Node]:
    """Leaves on a field: what may follow `field:`."""
    if field.kind is FieldKind.ANY_ATTRIBUTE:
        return terms(field)
    comparisons = st.builds(Comparison, st.just(field), st.sampled_from([">", ">=", "<", "<="]), numbers)
    return st.one_of(terms(field), st.just(Exists(field)), comparisons, ranges(field))


networks = st.one_of(
    st.tuples(st.ip_addresses(v=4), st.integers(0, 32)),
    st.tuples(st.ip_addresses(v=6), st.integers(0, 128)),
).map(lambda pair: ipaddress.ip_network(f"{pair[0]}/{pair[1]}", strict=False))
cidrs = st.builds(Cidr, attribute_refs, st.lists(networks, min_size=1, max_size=3).map(tuple))


def parenthesised(node: Node) -> Node:
    return Group(node) if isinstance(node, (And, Or)) else node


def booleans(leaves: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
        many = st.lists(children.map(parenthesised), min_size=2, max_size=3).map(tuple)
        return st.one_of(
            st.builds(And, many, st.booleans()),
            st.builds(Or, many),
            st.builds(Not, children.map(parenthesised), st.booleans()),
            children.map(Group),
        )

    return st.recursive(leaves, extend, max_leaves=6)


field_groups = st.one_of(named_fields, st.just(ANY)).flatmap(
    lambda field: booleans(values(field)).map(lambda child: FieldGroup(field, child))
)
leaves = st.one_of(
    terms(FREE),
    terms(ANY),
    named_fields.flatmap(values),
    cidrs,
    st.just(MatchAll()),
    field_groups,
)
queries = booleans(leaves).map(Query)


def parse_or_error(text: str) -> Query | SearchSyntaxError:
    try:
        return parse(text)
    except SearchSyntaxError as error:
        return error


class TestRoundTrip:
    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(queries)
    def test_generated_trees_round_trip(self, query: Query) -> None:
        """Any tree the parser could produce is reproduced by parsing its canonical text."""
        text = unparse(query)
        assert parse(text) == query, text

    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
    @given(st.text(alphabet=ALPHABET + "ANDORTNIC", max_size=30))
    def test_arbitrary_text_parses_or_fails_cleanly(self, text: str) -> None:
        """Any text gives a Query or a SearchSyntaxError; a Query round-trips and compiles."""
        query = parse_or_error(text)
        if isinstance(query, SearchSyntaxError):
            assert 0 <= query.position <= len(text)
            assert query.message
            return
        assert parse(unparse(query)) == query
        assert compile_query(query)(LogRecord(message=text)) in (True, False)

    @settings(max_examples=200)
    @given(st.text(max_size=40))
    def test_any_unicode_text(self, text: str) -> None:
        """Unicode text of any kind never raises anything but SearchSyntaxError."""
        query = parse_or_error(text)
        if isinstance(query, SearchSyntaxError):
            assert 0 <= query.position <= len(text)


class TestGlob:
    @settings(max_examples=300)
    @given(
        pattern=st.lists(st.one_of(st.text(alphabet="ab.", min_size=1, max_size=3), st.sampled_from(Wildcard))),
        text=st.text(alphabet="ab.\n", max_size=12),
    )
    def test_agrees_with_the_regex_reading(self, pattern: list[str | Wildcard], text: str) -> None:
        """The linear matcher accepts exactly what the equivalent anchored regex accepts."""
        regex = "".join(
            ".*" if part is Wildcard.STAR else "." if part is Wildcard.ONE else re.escape(str(part)) for part in pattern
        )
        assert Glob(tuple(pattern)).fullmatch(text) == (re.fullmatch(regex, text, re.S) is not None)

    def test_pathological_pattern_is_fast(self) -> None:
        """Many stars against a long near-miss value answers without exponential backtracking."""
        glob = Glob((Wildcard.STAR, "a", Wildcard.STAR, "a", Wildcard.STAR, "a", Wildcard.STAR, "b"))
        assert not glob.fullmatch("a" * 50_000)
