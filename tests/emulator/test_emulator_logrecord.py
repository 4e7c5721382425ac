"""Dotted attribute paths over nested JSON: reading, writing, removing, and searching through arrays."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logmon.logrecord import (
    MISSING,
    LogRecord,
    get_parts,
    get_path,
    is_mapping,
    iter_path_values,
    pop_path,
    set_path,
)

KEYS = st.sampled_from(["a", "b", "c", "http", "usr"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=4))
DOCUMENTS = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(KEYS, children, max_size=3)),
    max_leaves=10,
)
OBJECTS = st.dictionaries(KEYS, DOCUMENTS, max_size=4)
PATHS = st.lists(KEYS, min_size=1, max_size=4).map(".".join)


def leaves(document: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (path, value) below a document whose value is not a non-empty object."""
    if isinstance(document, dict) and document:
        for key, value in document.items():
            yield from leaves(value, (*prefix, key))
    else:
        yield prefix, document


class TestGetPath:
    def test_reads_nested_values(self) -> None:
        """A dotted path walks nested objects."""
        assert get_path({"http": {"status_code": 503}}, "http.status_code") == 503

    def test_absent_is_missing_not_null(self) -> None:
        """An absent path is MISSING, distinct from a JSON null, and MISSING is falsy."""
        assert get_path({"a": None}, "a") is None
        assert get_path({"a": None}, "b") is MISSING
        assert get_path({"a": 1}, "a.b") is MISSING
        assert not MISSING
        assert repr(MISSING) == "MISSING"

    def test_does_not_descend_into_arrays(self) -> None:
        """A single-value read stops at an array; searching uses iter_path_values instead."""
        assert get_path({"tags": [{"name": "x"}]}, "tags.name") is MISSING

    def test_reads_read_only_mappings(self) -> None:
        """Any mapping counts as an object, not only dict."""
        assert get_path(MappingProxyType({"a": MappingProxyType({"b": 2})}), "a.b") == 2
        assert get_path(MappingProxyType({"a": 1}), "a") == 1

    @given(OBJECTS, PATHS)
    @settings(max_examples=150, deadline=None)
    def test_get_parts_agrees_with_get_path(self, document: dict[str, Any], path: str) -> None:
        """Reading with a pre-split path gives the same answer as the dotted path."""
        assert get_parts(document, tuple(path.split("."))) == get_path(document, path)

    def test_record_accessors(self) -> None:
        """LogRecord.get and LogRecord.values read its attributes."""
        log = LogRecord(attributes={"usr": {"id": "u1"}, "ids": [1, 2]}, service="ledger")
        assert log.get("usr.id") == "u1"
        assert list(log.values("ids")) == [1, 2]
        assert log.reserved("service") == "ledger"


class TestSetPath:
    @given(OBJECTS, PATHS, SCALARS)
    @settings(max_examples=150, deadline=None)
    def test_set_then_get_round_trips(self, document: dict[str, Any], path: str, value: Any) -> None:
        """After set_path, get_path returns the value set, whatever was in the way."""
        set_path(document, path, value)
        assert get_path(document, path) == value

    @given(OBJECTS, PATHS, SCALARS)
    @settings(max_examples=150, deadline=None)
    def test_set_leaves_unrelated_values_alone(self, document: dict[str, Any], path: str, value: Any) -> None:
        """Values whose path neither contains nor lies along the path set are unchanged."""
        before = list(leaves(copy.deepcopy(document)))
        set_path(document, path, value)
        parts = tuple(path.split("."))
        for where, old in before:
            related = where[: len(parts)] == parts or parts[: len(where)] == where
            if not related:
                assert get_parts(document, where) == old

    def test_creates_intermediate_objects(self) -> None:
        """Missing parents are created as objects."""
        document: dict[str, Any] = {}
        set_path(document, "network.client.ip", "10.0.0.1")
        assert document == {"network": {"client": {"ip": "10.0.0.1"}}}

    def test_a_scalar_in_the_way_is_replaced(self) -> None:
        """A scalar where an object is needed becomes the object."""
        document: dict[str, Any] = {"http": "GET", "other": 1}
        set_path(document, "http.method", "GET")
        assert document == {"http": {"method": "GET"}, "other": 1}


class TestPopPath:
    @given(OBJECTS, PATHS, SCALARS)
    @settings(max_examples=150, deadline=None)
    def test_pop_returns_the_value_and_removes_it(self, document: dict[str, Any], path: str, value: Any) -> None:
        """pop_path returns what set_path put there, and afterwards the path is MISSING."""
        set_path(document, path, value)
        assert pop_path(document, path) == value
        assert get_path(document, path) is MISSING

    @given(OBJECTS, PATHS, SCALARS)
    @settings(max_examples=150, deadline=None)
    def test_empty_parents_are_pruned(self, document: dict[str, Any], path: str, value: Any) -> None:
        """No parent along a popped path is left as an empty object, and other values are untouched."""
        set_path(document, path, value)
        before = [(where, old) for where, old in leaves(copy.deepcopy(document)) if ".".join(where) != path]
        pop_path(document, path)
        parts = path.split(".")
        for depth in range(1, len(parts)):
            assert get_path(document, ".".join(parts[:depth])) != {}
        after = [leaf for leaf in leaves(document) if leaf != ((), {})]
        assert sorted(map(repr, after)) == sorted(map(repr, before))

    def test_siblings_keep_their_parent(self) -> None:
        """A parent that still holds other values is kept."""
        document: dict[str, Any] = {"usr": {"id": "u1", "email": "e"}}
        assert pop_path(document, "usr.id") == "u1"
        assert document == {"usr": {"email": "e"}}

    def test_absent_paths_return_missing(self) -> None:
        """Popping an absent path, or one through a scalar, returns MISSING and changes nothing."""
        document: dict[str, Any] = {"a": 1, "b": {"c": 2}}
        for path in ("x", "a.b", "b.x", "b.c.d"):
            assert pop_path(document, path) is MISSING
        assert document == {"a": 1, "b": {"c": 2}}


class TestIterPathValues:
    def test_descends_arrays_of_objects(self) -> None:
        """`@tags.name:x` sees each element's `name`."""
        document = {"tags": [{"name": "x"}, {"name": "y"}, {"other": 1}]}
        assert list(iter_path_values(document, "tags.name")) == ["x", "y"]

    def test_an_array_value_yields_its_elements(self) -> None:
        """`@ids:3` sees each element of the array."""
        assert list(iter_path_values({"ids": [1, 3]}, "ids")) == [1, 3]

    def test_nested_arrays_are_flattened(self) -> None:
        """Arrays inside arrays are searched element by element."""
        document = {"a": [[{"b": 1}, {"b": [2, 3]}], {"b": 4}]}
        assert list(iter_path_values(document, "a.b")) == [1, 2, 3, 4]

    def test_absent_path_yields_nothing(self) -> None:
        """A path that is not there yields no value."""
        assert list(iter_path_values({"a": {"b": 1}}, "a.c")) == []

    @given(st.lists(SCALARS, max_size=5), st.lists(SCALARS, max_size=5))
    @settings(max_examples=100, deadline=None)
    def test_collects_every_element_value(self, first: list[Any], second: list[Any]) -> None:
        """Every scalar under the path, through any array on the way, is yielded in order."""
        document = {"a": [{"b": value} for value in first] + [{"c": 0}, {"b": second}]}
        assert list(iter_path_values(document, "a.b")) == [*first, *second]

    @given(OBJECTS, PATHS)
    @settings(max_examples=150, deadline=None)
    def test_without_arrays_it_is_get_path(self, document: dict[str, Any], path: str) -> None:
        """Where no array lies on the path, the values are just the one get_path reads."""
        value = get_path(document, path)
        if value is MISSING:
            return
        prefix_values = [
            get_path(document, ".".join(path.split(".")[:depth])) for depth in range(1, path.count(".") + 1)
        ]
        if any(isinstance(v, list) for v in prefix_values) or isinstance(value, list):
            return
        assert list(iter_path_values(document, path)) == [value]


class TestIsMapping:
    @pytest.mark.parametrize(
        ("node", "expected"),
        [
            ({}, True),
            (MappingProxyType({}), True),
            ([], False),
            ("text", False),
            (1, False),
            (1.5, False),
            (None, False),
            (True, False),
        ],
    )
    def test_json_objects_and_other_mappings(self, node: Any, expected: bool) -> None:
        """dicts and other mappings are objects; JSON leaves and arrays are not."""
        assert is_mapping(node) is expected
