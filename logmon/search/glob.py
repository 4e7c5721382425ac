"""Whole-value wildcard matching that cannot backtrack badly.

A regex such as `.*a.*a.*a.*b` can take polynomial time on a long value, and queries are user input run
over millions of logs. Split at `*`, the pieces between stars have fixed lengths, so matching the first
piece at the start, the last at the end and each middle piece at its leftmost place is both correct and
linear in the value.
"""

from __future__ import annotations

import re

from logmon.search.ast import Pattern, Wildcard


class Glob:
    __slots__ = ("_exact", "_first", "_last", "_middle", "_minimum", "_starred")

    def __init__(self, pattern: Pattern, ignore_case: bool = False) -> None:
        flags = re.S | (re.I if ignore_case else 0)
        pieces: list[list[str]] = [[]]
        lengths = [0]
        for part in pattern:
            if part is Wildcard.STAR:
                pieces.append([])
                lengths.append(0)
            elif part is Wildcard.ONE:
                pieces[-1].append(".")
                lengths[-1] += 1
            else:
                assert isinstance(part, str)
                pieces[-1].append(re.escape(part))
                lengths[-1] += len(part)
        compiled = [re.compile("".join(piece), flags) for piece in pieces]
        self._starred = len(pieces) > 1
        self._exact = compiled[0]
        self._first = (compiled[0], lengths[0])
        self._last = (compiled[-1], lengths[-1])
        self._middle = list(zip(compiled[1:-1], lengths[1:-1], strict=True))
        self._minimum = sum(lengths)

    def fullmatch(self, text: str) -> bool:
        if not self._starred:
            return self._exact.fullmatch(text) is not None
        if len(text) < self._minimum:
            return False
        first, first_length = self._first
        last, last_length = self._last
        start, end = first_length, len(text) - last_length
        if first_length and first.match(text, 0, first_length) is None:
            return False
        if last_length and last.match(text, end) is None:
            return False
        for piece, length in self._middle:
            if not length:
                continue
            found = piece.search(text, start, end)
            if found is None:
                return False
            start = found.end()
        return start <= end
