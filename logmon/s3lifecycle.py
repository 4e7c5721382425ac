"""S3's lifecycle rules, in one place: what AWS rejects, and what it bills for.

Lint applies them to the retention tiers in the rules (pointing at the YAML), and the offline plan applies
them to the lifecycle the Pulumi program registers (pointing at the S3 document). `moto` accepts lifecycles
that AWS rejects, so these rules are the check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

WATERFALL: Final = (
    "STANDARD",
    "STANDARD_IA",
    "INTELLIGENT_TIERING",
    "ONEZONE_IA",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
)
"""S3's transition waterfall: an object only ever moves to a class further down."""
MINIMUM_DAYS_BEFORE: Final = {"STANDARD_IA": 30, "ONEZONE_IA": 30}
"""S3 refuses a transition into these classes before an object is this many days old."""
MINIMUM_BILLABLE_DAYS: Final = {
    "STANDARD_IA": 30,
    "ONEZONE_IA": 30,
    "GLACIER_IR": 90,
    "GLACIER": 90,
    "DEEP_ARCHIVE": 180,
}
"""Days S3 bills an object in a class however early it moves on or expires."""
REHYDRATABLE: Final = frozenset({"STANDARD", "STANDARD_IA", "ONEZONE_IA", "GLACIER_IR", "INTELLIGENT_TIERING"})
"""Classes Datadog can rehydrate from directly; GLACIER and DEEP_ARCHIVE need a restore first."""

Kind = Literal["too-early", "days-order", "class-order", "expiry-order", "minimum-billing"]


@dataclass(frozen=True, slots=True)
class Problem:
    kind: Kind
    """`too-early`, `days-order`, `class-order`, `expiry-order` are rejected by S3; `minimum-billing` costs."""
    transition: int | None
    """The index of the transition at fault; None for the expiration."""
    message: str
    text: str


def problems(
    transitions: Sequence[tuple[int, str]], expiration_days: int | None, starting_class: str = "STANDARD"
) -> list[Problem]:
    """Every problem with transitions (days, storage class) followed by an expiry, for objects written in
    `starting_class`."""
    found: list[Problem] = []
    previous_days, previous_class = 0, starting_class
    for index, (days, storage_class) in enumerate(transitions):
        minimum = MINIMUM_DAYS_BEFORE.get(storage_class, 0)
        if days < minimum:
            found.append(
                Problem(
                    "too-early",
                    index,
                    f"S3 rejects a transition to {storage_class} after {days} days; objects must be "
                    f"{minimum} days old or more before moving to an infrequent-access class",
                    str(days),
                )
            )
        if index and days <= previous_days:
            found.append(
                Problem(
                    "days-order",
                    index,
                    f"the transition to {storage_class} at day {days} does not come after the previous one at "
                    f"day {previous_days}; order transitions by increasing days",
                    str(days),
                )
            )
        elif index and days - previous_days < MINIMUM_BILLABLE_DAYS.get(previous_class, 0):
            found.append(_billing(index - 1, previous_class, days - previous_days))
        if WATERFALL.index(storage_class) <= WATERFALL.index(previous_class):
            found.append(
                Problem(
                    "class-order",
                    index,
                    f"S3 cannot move objects from {previous_class} to {storage_class}; transitions go down the "
                    f"waterfall {' → '.join(WATERFALL)}",
                    storage_class,
                )
            )
        previous_days, previous_class = days, storage_class
    if expiration_days is not None and transitions:
        if expiration_days <= previous_days:
            found.append(
                Problem(
                    "expiry-order",
                    None,
                    f"objects expire at day {expiration_days}, not after the last transition at day {previous_days}; "
                    "S3 rejects the lifecycle",
                    str(expiration_days),
                )
            )
        elif expiration_days - previous_days < MINIMUM_BILLABLE_DAYS.get(previous_class, 0):
            found.append(_billing(len(transitions) - 1, previous_class, expiration_days - previous_days))
    return found


def _billing(index: int, storage_class: str, stay: int) -> Problem:
    return Problem(
        "minimum-billing",
        index,
        f"objects stay {stay} days in {storage_class}, which bills at least {MINIMUM_BILLABLE_DAYS[storage_class]}; "
        "the move costs more than it saves",
        storage_class,
    )
