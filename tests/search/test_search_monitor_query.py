"""Log monitor queries: built from fields, parsed back, and refused with a position when malformed."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logmon.search import SearchSyntaxError
from logmon.search.monitor_query import (
    ROLLUPS,
    MonitorQuery,
    build_monitor_query,
    format_number,
    parse_monitor_query,
    window_minutes,
)

COUNT = MonitorQuery(
    search="service:payments @event_type:payment_completion",
    indexes=("*",),
    rollup="count",
    measure=None,
    group_by=(),
    window_minutes=5,
    window_text="5m",
    comparator=">",
    threshold=500,
)


class TestBuild:
    def test_count(self) -> None:
        """A count monitor is written in Datadog's order with the threshold as an integer."""
        assert build_monitor_query(COUNT) == (
            'logs("service:payments @event_type:payment_completion").index("*").rollup("count").last("5m") > 500'
        )

    def test_measure_group_by_and_indexes(self) -> None:
        """A measure rollup names its measure; indexes and group-bys are comma-separated in one string."""
        query = replace(
            COUNT,
            indexes=("main", "payments-hot"),
            rollup="cardinality",
            measure="@usr.id",
            group_by=("@merchant.id", "service"),
            window_minutes=60,
            window_text="1h",
            comparator="<=",
            threshold=2.5,
        )
        assert build_monitor_query(query) == (
            'logs("service:payments @event_type:payment_completion").index("main,payments-hot")'
            '.rollup("cardinality", "@usr.id").by("@merchant.id,service").last("1h") <= 2.5'
        )

    def test_quotes_in_the_search_are_escaped(self) -> None:
        """Double quotes and backslashes inside the search are escaped with a backslash."""
        query = replace(COUNT, search='@path:"/a b" @x:c\\:d')
        assert build_monitor_query(query).startswith('logs("@path:\\"/a b\\" @x:c\\\\:d")')

    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (500, "500"),
            (500.0, "500"),
            (2.5, "2.5"),
            (0.1, "0.1"),
            (1e-7, "0.0000001"),
            (1e20, "100000000000000000000"),
            (-3.0, "-3"),
        ],
    )
    def test_numbers_have_no_spurious_point_zero(self, value: float, text: str) -> None:
        """Whole numbers print without `.0` and no number prints in exponent form."""
        assert format_number(value) == text


class TestParse:
    def test_datadog_example(self) -> None:
        """The query form from Datadog's monitor API reads into its fields."""
        text = 'logs("service:foo AND type:error").index("main").rollup("count").by("source").last("5m") > 2'
        assert parse_monitor_query(text) == MonitorQuery(
            search="service:foo AND type:error",
            indexes=("main",),
            rollup="count",
            measure=None,
            group_by=("source",),
            window_minutes=5,
            window_text="5m",
            comparator=">",
            threshold=2.0,
        )

    def test_whitespace_and_missing_index(self) -> None:
        """Line breaks between calls are allowed; without .index() every index is searched."""
        text = 'logs("@a:1")\n  .rollup("avg", "@duration")\n  .last("2h") >= 0.25'
        query = parse_monitor_query(text)
        assert (query.indexes, query.rollup, query.measure, query.window_minutes) == (
            ("*",),
            "avg",
            "@duration",
            120,
        )
        assert query.threshold == 0.25

    def test_hand_written_search_escape_is_kept(self) -> None:
        """A backslash that does not escape a quote or backslash stays part of the search."""
        query = parse_monitor_query('logs("@a:x\\:y").rollup("count").last("5m") > 1')
        assert query.search == "@a:x\\:y"

    @pytest.mark.parametrize(
        ("text", "column", "message"),
        [
            ('events("x").rollup("count").last("5m") > 1', 1, "not a log monitor query"),
            ('logs("a OR").rollup("count").last("5m") > 1', 9, "in the search: nothing after 'OR'"),
            ('logs("x \\" y").rollup("count").last("5m") > 1', 9, "in the search: unterminated quote"),
            ('logs("x").rollup("avg").last("5m") > 1', 18, "avg needs a facet or measure"),
            ('logs("x").rollup("count", "@a").last("5m") > 1', 18, "count takes no measure"),
            ('logs("x").rollup("p50", "@a").last("5m") > 1', 18, "'p50' is not a log monitor rollup"),
            ('logs("x").rollup("count").last("3d") > 1', 32, "must be minutes or hours"),
            ('logs("x").rollup("count").last("49h") > 1', 32, "longer than Datadog's 2 days"),
            ('logs("x").rollup("count").last("5m") == 1', 38, "comparator '==' is not supported"),
            ('logs("x").last("5m").rollup("count") > 1', 22, "out of order"),
            ('logs("x").rollup("count").rollup("count").last("5m") > 1', 27, "appears twice"),
            ('logs("x").rollup("count").every("5m").last("5m") > 1', 27, "not part of a log monitor query"),
            ('logs("x").rollup("count") > 1', 27, "has no .last()"),
            ('logs("x").rollup("count").last("5m") >', 39, "expected a number"),
            ('logs("x").rollup("count").last("5m") > 1 extra', 42, "expected the end of the query"),
            ('logs("x").index("Main").rollup("count").last("5m") > 1', 17, "not an index name"),
            ('logs("x").index("*,main").rollup("count").last("5m") > 1', 17, "list it alone"),
            ('logs("x").rollup("count").by("a,,b").last("5m") > 1', 30, "not a facet name"),
            ('logs("x").rollup("count").by("a,b,c,d,e").last("5m") > 1', 30, "at most 4 facets"),
        ],
    )
    def test_bad_monitor_query(self, text: str, column: int, message: str) -> None:
        """A malformed monitor query is a SearchSyntaxError at the offending column."""
        with pytest.raises(SearchSyntaxError) as caught:
            parse_monitor_query(text)
        assert message in caught.value.message
        assert caught.value.column == column
        assert caught.value.hint


class TestFields:
    @pytest.mark.parametrize(
        ("changes", "problem"),
        [
            ({"rollup": "count", "measure": "@a"}, "count takes no measure"),
            ({"rollup": "sum", "measure": None}, "needs a facet or measure"),
            ({"window_minutes": 6}, "disagrees"),
            ({"window_text": "0m", "window_minutes": 0}, "must be minutes or hours"),
            ({"indexes": ()}, "no index"),
            ({"threshold": float("nan")}, "finite"),
            ({"comparator": "=="}, "not one of"),
            ({"search": "a OR"}, "search: nothing after 'OR'"),
            ({"group_by": ("@a", "@a")}, "grouped by twice"),
        ],
    )
    def test_invalid_fields_are_refused(self, changes: dict[str, Any], problem: str) -> None:
        """A MonitorQuery that Datadog would reject cannot be constructed."""
        with pytest.raises(ValueError, match=re.escape(problem)):
            replace(COUNT, **changes)

    def test_window_minutes(self) -> None:
        """Windows are minutes or hours up to two days."""
        assert [window_minutes(text) for text in ("1m", "5m", "2880m", "1h", "48h")] == [1, 5, 2880, 60, 2880]
        with pytest.raises(ValueError, match="2 days"):
            window_minutes("2881m")


searches = st.sampled_from(
    [
        "*",
        "service:payments",
        '@path:"/a \\"b\\" c\\\\d"',
        "@http.status_code:[500 TO 599] -@user.id:*",
        "status:(error OR critical) @a:x\\:y",
        "CIDR(@network.client.ip, 10.0.0.0/8)",
    ]
)
facets = st.sampled_from(["@usr.id", "@merchant.id", "service", "host", "@http.status_code", "env"])
windows = st.one_of(
    st.integers(1, 2880).map(lambda minutes: (minutes, f"{minutes}m")),
    st.integers(1, 48).map(lambda hours: (hours * 60, f"{hours}h")),
)


@st.composite
def monitor_queries(draw: st.DrawFn) -> MonitorQuery:
    rollup = draw(st.sampled_from(ROLLUPS))
    minutes, text = draw(windows)
    indexes = draw(
        st.one_of(
            st.just(("*",)),
            st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), min_size=1, max_size=3, unique=True).map(
                tuple
            ),
        )
    )
    return MonitorQuery(
        search=draw(searches),
        indexes=indexes,
        rollup=rollup,
        measure=None if rollup == "count" else draw(facets),
        group_by=tuple(draw(st.lists(facets, max_size=4, unique=True))),
        window_minutes=minutes,
        window_text=text,
        comparator=draw(st.sampled_from([">", ">=", "<", "<="])),
        threshold=draw(
            st.one_of(st.integers(-(10**9), 10**9), st.floats(allow_nan=False, allow_infinity=False, width=64))
        ),
    )


class TestRoundTrip:
    @settings(max_examples=200)
    @given(monitor_queries())
    def test_parse_inverts_build(self, query: MonitorQuery) -> None:
        """Every valid monitor query reads back to the same fields."""
        assert parse_monitor_query(build_monitor_query(query)) == query

    @settings(max_examples=200)
    @given(monitor_queries())
    def test_threshold_in_text_equals_the_field(self, query: MonitorQuery) -> None:
        """The number after the comparator is exactly the threshold, so Datadog's check always agrees."""
        text = build_monitor_query(query)
        number = text.rsplit(f" {query.comparator} ", 1)[1]
        assert float(number) == query.threshold
        assert "e" not in number.lower()
        assert not number.endswith(".0")

    @settings(max_examples=200)
    @given(st.text(alphabet='logs().index"rollup,count"last5m>1 \\@:', max_size=60))
    def test_arbitrary_text_fails_cleanly(self, text: str) -> None:
        """Any text gives a MonitorQuery or a SearchSyntaxError with a position inside it."""
        try:
            outcome: MonitorQuery | SearchSyntaxError = parse_monitor_query(text)
        except SearchSyntaxError as error:
            outcome = error
        if isinstance(outcome, SearchSyntaxError):
            assert 0 <= outcome.position <= len(text)
