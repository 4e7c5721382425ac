"""Numbers as the search language writes them."""

from __future__ import annotations

import math
import re
from typing import Final

from logmon.search.ast import Number

NUMBER: Final = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
"""Decimal integers and floats with an optional exponent: `404`, `-2.5`, `4.1E-4`."""


def parse_number(text: str) -> Number | None:
    """`text` as an int (when written without a point or exponent) or a finite float; None otherwise."""
    if not NUMBER.fullmatch(text):
        return None
    if "." not in text and "e" not in text and "E" not in text:
        try:
            return int(text)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            return None
    value = float(text)
    return value if math.isfinite(value) else None
