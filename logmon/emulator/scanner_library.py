"""The Scanning Rule Library rules the emulator reproduces: a layout, a check on the digits, the keywords.

Datadog does not publish its library patterns. What is public, and what these follow:
- the rule's name gives the layout (`4x4 digits`: four groups of four, `1x16 digits`: sixteen in a row);
- card numbers are validated with the Luhn checksum (DataDog/dd-sensitive-data-scanner,
  `secondary_validation/luhn_checksum.rs`) and must start with the network's issuer prefix;
- each rule's default keywords, one of which must appear within 30 characters before a match
  (DataDog/documentation `content/en/security/sensitive_data_scanner/scanning_rules/library_rules.md` and
  `setup/telemetry_data.md`, "By default, keywords must be within 30 characters before a matched value").

A library rule missing here is not emulated (`scanner/library-rule-not-emulated` says so in lint).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

Validator = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class LibraryRule:
    pattern: re.Pattern[str]
    keywords: tuple[str, ...] = ()
    """Datadog's default keywords; empty: a match needs none."""
    validate: Validator | None = None
    """A check on the matched text (issuer prefix and Luhn checksum for cards)."""
    gate: re.Pattern[str] | None = None
    """A cheap search a text must pass before the pattern is tried (every card layout has four digits in a
    row); rules sharing a gate share its answer."""


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a digit string (separators already removed)."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        digit = ord(character) - 48
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(character for character in text if character.isdigit())


def _card(issuer: Callable[[str], bool]) -> Validator:
    def validate(text: str) -> bool:
        digits = _digits(text)
        return issuer(digits) and luhn_valid(digits)

    return validate


def _visa(digits: str) -> bool:
    return digits.startswith("4")


def _mastercard(digits: str) -> bool:
    return 51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720


def _amex(digits: str) -> bool:
    return digits[:2] in ("34", "37")


def _discover(digits: str) -> bool:
    return digits.startswith(("6011", "65")) or 644 <= int(digits[:3]) <= 649 or 622126 <= int(digits[:6]) <= 622925


FOUR_DIGITS: Final = re.compile(r"\d{4}")


def _layout(*groups: int) -> re.Pattern[str]:
    """Digit groups separated by one space or dash, not inside a longer run of digits."""
    body = "[ -]".join(rf"\d{{{size}}}" for size in groups)
    return re.compile(rf"(?<!\d){body}(?!\d)")


def _either(*layouts: re.Pattern[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{layout.pattern})" for layout in layouts))


_CARD_KEYWORDS: Final = (
    "account number",
    "bank card",
    "card",
    "card num",
    "card number",
    "cc #",
    "ccn",
    "check card",
    "credit",
    "credit card#",
    "dankort",
    "debit",
    "debit card",
    "pan",
    "payment account number",
    "payment card number",
    "pcn",
)
_VISA_KEYWORDS: Final = (*_CARD_KEYWORDS, "electron", "union pay", "visa")
_MASTERCARD_KEYWORDS: Final = (*_CARD_KEYWORDS, "mastercard", "mc", "union pay")
_AMEX_KEYWORDS: Final = (*_CARD_KEYWORDS, "american express", "amex", "union pay")
_DISCOVER_KEYWORDS: Final = (*_CARD_KEYWORDS, "discover")

LIBRARY: Final[Mapping[str, LibraryRule]] = {
    "Visa Card Scanner (4x4 digits)": LibraryRule(_layout(4, 4, 4, 4), _VISA_KEYWORDS, _card(_visa), FOUR_DIGITS),
    "Visa Card Scanner (2x8 digits)": LibraryRule(_layout(8, 8), _VISA_KEYWORDS, _card(_visa), FOUR_DIGITS),
    "Visa Card Scanner (1x16 & 1x19 digits)": LibraryRule(
        _either(_layout(16), _layout(19)), _VISA_KEYWORDS, _card(_visa), FOUR_DIGITS
    ),
    "MasterCard Scanner (4x4 digits)": LibraryRule(
        _layout(4, 4, 4, 4), _MASTERCARD_KEYWORDS, _card(_mastercard), FOUR_DIGITS
    ),
    "MasterCard Scanner (2x8 digits)": LibraryRule(
        _layout(8, 8), _MASTERCARD_KEYWORDS, _card(_mastercard), FOUR_DIGITS
    ),
    "MasterCard Scanner (1x16 digits)": LibraryRule(_layout(16), _MASTERCARD_KEYWORDS, _card(_mastercard), FOUR_DIGITS),
    "American Express Card Scanner (1x15 digits)": LibraryRule(_layout(15), _AMEX_KEYWORDS, _card(_amex), FOUR_DIGITS),
    "American Express Card Scanner (4+6+5 digits)": LibraryRule(
        _layout(4, 6, 5), _AMEX_KEYWORDS, _card(_amex), FOUR_DIGITS
    ),
    "American Express Card Scanner (4+4+4+3 digits)": LibraryRule(
        _layout(4, 4, 4, 3), _AMEX_KEYWORDS, _card(_amex), FOUR_DIGITS
    ),
    "American Express Card Scanner (8+7 digits)": LibraryRule(_layout(8, 7), _AMEX_KEYWORDS, _card(_amex), FOUR_DIGITS),
    "Discover Card Scanner (4x4 digits)": LibraryRule(
        _layout(4, 4, 4, 4), _DISCOVER_KEYWORDS, _card(_discover), FOUR_DIGITS
    ),
    "Discover Card Scanner (2x8 digits)": LibraryRule(_layout(8, 8), _DISCOVER_KEYWORDS, _card(_discover), FOUR_DIGITS),
    "Discover Card Scanner (1x16 digits)": LibraryRule(_layout(16), _DISCOVER_KEYWORDS, _card(_discover), FOUR_DIGITS),
    "Standard Email Address Scanner": LibraryRule(
        re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
    ),
}
"""Library rule name (exactly as `library_rule:` writes it) → how the emulator reproduces it."""
