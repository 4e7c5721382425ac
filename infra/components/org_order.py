"""Organization-wide orders (indexes, archives) that this stack shares with whatever else the org holds.

Datadog keeps one index order and one archive order per organization, and its API refuses an order that
leaves out an existing item (422, "cannot map … to existing ones"). So a stack never sends only its own
items: it reads the current order through the provider's data source and merges its items into it.
"""

from __future__ import annotations

from collections.abc import Sequence


def merged_order(current: Sequence[str], ours: Sequence[str]) -> list[str]:
    """The organization's order with this stack's items in `ours`' order, and nothing else moved.

    Items the stack does not manage keep their positions relative to each other and to the slots our items
    already hold: the stack never changes the precedence of what it does not manage. Our items fill our
    existing slots in our order; one of ours that is new goes just before the next of ours that already
    exists, or, after the last, right after it. When none of ours exists yet, ours go last, after every
    unmanaged item.
    """
    managed = set(ours)
    existing = [item for item in current if item in managed]
    if not existing:
        return [*current, *ours]
    # Split `ours` into one run per existing slot: everything up to and including the next existing item.
    runs: list[list[str]] = []
    run: list[str] = []
    present = set(existing)
    for item in ours:
        run.append(item)
        if item in present:
            runs.append(run)
            run = []
    runs[-1].extend(run)  # new items after the last existing one follow it
    merged: list[str] = []
    slots = iter(runs)
    for item in current:
        merged.extend(next(slots) if item in managed else [item])
    return merged
