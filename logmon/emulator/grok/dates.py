"""The `date("pattern"[, "timezone"[, "locale"]])` matcher: Java-style date patterns as regexes and parsers.

Datadog documents the patterns by example (Java's pattern letters: `yyyy`, `MMM`, `dd`, `HH`, `SSS`, `Z`, `a`,
`EEE`, quoted literals) and the time zone forms it accepts: `GMT`/`UTC`/`UT`/`Z`, offsets from `+h` to
`+hh:mm:ss` within ±18:00, `UTC+5`-style prefixes, and TZ database names. The result is milliseconds since
the epoch. A pattern without a date is read on 1970-01-01 (Datadog's `HH:mm:ss` example); a pattern with a
month and day but no year takes the year of the log (Datadog's glog example takes the current year).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS: Final = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
DAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

ZONE_ABBREVIATIONS: Final[dict[str, int]] = {
    "UTC": 0,
    "GMT": 0,
    "UT": 0,
    "Z": 0,
    "WET": 0,
    "BST": 60,
    "IST": 330,
    "CET": 60,
    "CEST": 120,
    "EET": 120,
    "EEST": 180,
    "MSK": 180,
    "JST": 540,
    "KST": 540,
    "HKT": 480,
    "AEST": 600,
    "AEDT": 660,
    "NZST": 720,
    "NZDT": 780,
    "AST": -240,
    "ADT": -180,
    "EST": -300,
    "EDT": -240,
    "CST": -360,
    "CDT": -300,
    "MST": -420,
    "MDT": -360,
    "PST": -480,
    "PDT": -420,
    "AKST": -540,
    "AKDT": -480,
    "HST": -600,
}
"""Offsets in minutes of the zone abbreviations a `z` field reads (North American and European usage)."""

ENGLISH_LOCALES: Final = re.compile(r"(?i)en([_-][A-Za-z]{2})?")
_OFFSET: Final = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?")
_MAX_OFFSET: Final = timedelta(hours=18)


class DatePatternError(ValueError):
    """A date pattern, time zone or locale the matcher cannot use."""


def _offset(text: str) -> timezone | None:
    match = _OFFSET.fullmatch(text)
    if match is None:
        return None
    sign, hours, minutes, seconds = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0), seconds=int(seconds or 0))
    if delta > _MAX_OFFSET:
        raise DatePatternError(f"time zone offset {text!r} is beyond ±18:00")
    return timezone(-delta if sign == "-" else delta)


def parse_timezone(text: str) -> tzinfo:
    """A time zone argument as Datadog documents them; DatePatternError for anything else."""
    name = text.strip()
    if name.upper() in ("GMT", "UTC", "UT", "Z"):
        return UTC
    offset = _offset(name)
    if offset is not None:
        return offset
    for prefix in ("UTC", "GMT", "UT"):
        if name.upper().startswith(prefix) and name[len(prefix) : len(prefix) + 1] in ("+", "-"):
            offset = _offset(name[len(prefix) :])
            if offset is not None:
                return offset
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DatePatternError(
            f"unknown time zone {text!r}: use GMT/UTC, an offset such as +02:00 or UTC+5, or a TZ database "
            "name such as Europe/Paris"
        ) from None


@dataclass
class _Fields:
    year: int | None = None
    month: int | None = None
    day: int | None = None
    hour: int = 0
    hour12: int | None = None
    pm: bool | None = None
    minute: int = 0
    second: int = 0
    micro: int = 0
    zone: tzinfo | None = None


Reader = Callable[[str, _Fields], None]


def _names(names: tuple[str, ...], short: bool) -> str:
    return "|".join(sorted((name[:3] if short else name for name in names), key=len, reverse=True))


def _zone_reader(text: str, fields: _Fields) -> None:
    if text.upper() == "Z":
        fields.zone = UTC
        return
    offset = _offset(text)
    if offset is not None:
        fields.zone = offset
        return
    minutes = ZONE_ABBREVIATIONS.get(text.upper())
    fields.zone = timezone(timedelta(minutes=minutes)) if minutes is not None else parse_timezone(text)


def _field(letter: str, count: int) -> tuple[str, Reader]:
    """The regex and reader of `count` repetitions of one pattern letter."""
    digits = rf"\d{{{count}}}" if count > 1 else r"\d{1,2}"

    def number(attribute: str) -> Reader:
        return lambda text, fields: setattr(fields, attribute, int(text))

    if letter in "yu":
        if count == 2:
            return r"\d{2}", lambda text, fields: setattr(fields, "year", 2000 + int(text))
        return (r"\d{4}" if count >= 3 else r"\d{1,4}"), number("year")
    if letter in "ML":
        if count >= 3:
            pattern = _names(MONTHS, short=count == 3)
            return pattern, lambda text, fields: setattr(
                fields, "month", next(i for i, m in enumerate(MONTHS, 1) if m.startswith(text.lower()[:3]))
            )
        return digits, number("month")
    if letter == "d":
        return digits, number("day")
    if letter in "Hk":
        return digits, number("hour")
    if letter in "hK":
        return digits, number("hour12")
    if letter == "m":
        return digits, number("minute")
    if letter == "s":
        return digits, number("second")
    if letter == "S":
        return rf"\d{{{count}}}", lambda text, fields: setattr(fields, "micro", int(text.ljust(6, "0")[:6]))
    if letter == "a":
        return r"[AaPp][Mm]", lambda text, fields: setattr(fields, "pm", text.lower() == "pm")
    if letter == "E":
        return _names(DAYS, short=count <= 3), lambda text, fields: None
    if letter in "ZX":
        return r"Z|[+-]\d{2}(?::?\d{2})?(?::?\d{2})?|[A-Za-z_]+/[A-Za-z_/]+", _zone_reader
    if letter == "z":
        return r"[A-Za-z]{1,5}(?:[+-]\d{1,2}(?::?\d{2})?)?|[A-Za-z_]+/[A-Za-z_/]+", _zone_reader
    raise DatePatternError(
        f"date pattern letter {letter!r} is not supported; use y, M, d, H, h, m, s, S, a, E, Z, X or z, and quote "
        "literal text ('T')"
    )


@dataclass(frozen=True)
class DateMatcher:
    regex: str
    """The regex text (no capturing groups) the date matcher contributes to its rule."""
    readers: tuple[tuple[re.Pattern[str], Reader], ...]
    zone: tzinfo
    has_date: bool

    def to_millis(self, text: str, year: int) -> int | None:
        """Milliseconds since the epoch for a matched text; None when the fields are not a real date."""
        fields = _Fields()
        position = 0
        for pattern, reader in self.readers:
            match = pattern.match(text, position)
            if match is None:
                return None
            reader(match[0], fields)
            position = match.end()
        if fields.hour12 is not None:
            fields.hour = fields.hour12 % 12 + (12 if fields.pm else 0)
        if fields.year is None:
            fields.year = year if self.has_date else 1970
        try:
            moment = datetime(
                fields.year,
                fields.month or 1,
                fields.day or 1,
                fields.hour,
                fields.minute,
                fields.second,
                fields.micro,
                tzinfo=fields.zone or self.zone,
            )
        except ValueError:
            return None
        return int(moment.timestamp() * 1000 // 1) if moment.microsecond % 1000 == 0 else _floor_millis(moment)


def _floor_millis(moment: datetime) -> int:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    delta = moment - epoch
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


_LITERAL_CHARS: Final = re.compile(r"[^A-Za-z']+")


def compile_date(pattern: str, zone: str | None = None, locale: str | None = None) -> DateMatcher:
    """A date pattern as a regex and a reader; DatePatternError for what cannot be emulated."""
    if locale is not None and not ENGLISH_LOCALES.fullmatch(locale.strip()):
        raise DatePatternError(f"locale {locale!r} is not emulated: only English month and day names are")
    parts: list[str] = []
    readers: list[tuple[re.Pattern[str], Reader]] = []
    index, has_date = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "'":
            end = pattern.find("'", index + 1)
            if end == -1:
                raise DatePatternError(f"unclosed quote in date pattern {pattern!r}")
            literal = pattern[index + 1 : end] or "'"
            parts.append(re.escape(literal))
            readers.append((re.compile(re.escape(literal)), lambda text, fields: None))
            index = end + 1
            continue
        if char.isalpha():
            count = 1
            while index + count < len(pattern) and pattern[index + count] == char:
                count += 1
            regex, reader = _field(char, count)
            has_date = has_date or char in "yuMLd"
            parts.append(f"(?:{regex})")
            readers.append((re.compile(f"(?i:{regex})"), reader))
            index += count
            continue
        literal_match = _LITERAL_CHARS.match(pattern, index)
        assert literal_match is not None
        literal = literal_match[0]
        parts.append(re.escape(literal))
        readers.append((re.compile(re.escape(literal)), lambda text, fields: None))
        index = literal_match.end()
    return DateMatcher(
        f"(?i:{''.join(parts)})", tuple(readers), parse_timezone(zone) if zone is not None else UTC, has_date
    )
