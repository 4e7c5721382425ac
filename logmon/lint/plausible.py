"""Could a query match a log like this sample? Three answers: yes, no, or it depends on values the
catalogue leaves open.

A sample carries one example value for open fields (any currency, any status code), so matching it
exactly would call `@currency:EUR` impossible. Here a term on an open field that the sample has is
unknown rather than false, and AND/OR/NOT combine the answers by Kleene's rules. A query matches nothing
only when every sample answers a definite no.
"""

from __future__ import annotations

from collections.abc import Callable

from logmon.logrecord import MISSING, LogRecord
from logmon.search import (
    And,
    Exists,
    FieldGroup,
    FieldKind,
    FieldRef,
    Group,
    MatchAll,
    Matcher,
    Node,
    Not,
    Or,
    compile_query,
)

IsClosed = Callable[[FieldRef], bool]
"""True for fields whose every possible value the samples show (enumerated, boolean, the status)."""
AlwaysPresent = Callable[[LogRecord, str], bool]
"""True when every log of this sample's kind has the attribute (a required field of its event)."""


class Plausibility:
    def __init__(self, is_closed: IsClosed, always_present: AlwaysPresent) -> None:
        self.is_closed = is_closed
        self.always_present = always_present
        self._leaves: dict[int, Matcher] = {}

    def __call__(self, node: Node, record: LogRecord) -> bool | None:
        if isinstance(node, (Group, FieldGroup)):
            return self(node.child, record)
        if isinstance(node, MatchAll):
            return True
        if isinstance(node, And):
            answers = [self(child, record) for child in node.children]
            if False in answers:
                return False
            return True if all(answers) else None
        if isinstance(node, Or):
            answers = [self(child, record) for child in node.children]
            if True in answers:
                return True
            return False if all(answer is False for answer in answers) else None
        if isinstance(node, Not):
            answer = self(node.child, record)
            return None if answer is None else not answer
        return self._leaf(node, record)

    def _leaf(self, node: Node, record: LogRecord) -> bool | None:
        matcher = self._leaves.get(id(node))
        if matcher is None:
            matcher = self._leaves[id(node)] = compile_query(node)
        field: FieldRef = node.field  # type: ignore[union-attr]
        if self.is_closed(field):
            return matcher(record)
        if field.kind is FieldKind.ATTRIBUTE and record.get(field.path) is MISSING:
            return matcher(record)  # the log lacks the attribute: only an absence test can hold
        if isinstance(node, Exists) and field.kind is FieldKind.ATTRIBUTE and self.always_present(record, field.path):
            return True
        return None  # an open field the log has: another log of this kind may hold any value
