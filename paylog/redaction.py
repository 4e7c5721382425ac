"""The redaction processor: card numbers, secrets and personal data never leave the process.

It walks every caller-supplied value (nested ones too) and returns values that orjson can always encode:

- Luhn-valid 13-19 digit numbers, written plainly or in groups split by single spaces or dashes, keep
  only their last four digits (`************4242`);
- values under secret-looking keys (`password`, `access_token`, `Authorization`, ...) become `[REDACTED]`;
- email addresses are masked (`j***@example.com`) or replaced by an unsalted SHA-256 pseudonym
  (`sha256:<16 hex>`, stable per address so one user's lines still correlate);
- IP addresses under IP keys are kept (security monitors need them) unless anonymisation is on;
- over-long strings are truncated, containers are cut at a size, depth and total-node budget, cycles
  become a marker, and objects JSON cannot encode are rendered with `str()` (never raising).

The logger's own fields (timestamp, service, correlation ID, ...) are added after this processor runs,
so they are never scanned and never mangled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import ipaddress
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Set
from decimal import Decimal
from itertools import islice
from typing import Any, Final
from uuid import UUID

from structlog.typing import EventDict, WrappedLogger

from paylog.catalogue import CATALOGUE

REDACTED: Final = "[REDACTED]"
CIRCULAR: Final = "[circular]"
DEPTH_LIMIT: Final = "[depth limit]"
NODE_LIMIT: Final = "[node limit]"

SENSITIVE_KEY_SUFFIXES: Final = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "authorization",
    "cvv",
    "cvc",
    "cardnumber",
    "privatekey",
    "cookie",
    "credential",
    "credentials",
)
"""Compared with the key lower-cased and stripped of everything but letters and digits, as a suffix."""

_IP_KEY_SUFFIXES: Final = ("_ip", ".ip", "-ip", "ip_address", "ipaddress", "ip_addr")

_PLAIN, _SECRET, _IP, _SKIP, _OWN = 0, 1, 2, 3, 4
_FIXED_KINDS: Final = {"exc_info": _SKIP, "event": _OWN, "event_type": _OWN}
"""`exc_info` is the exception itself; `event` and `event_type` usually hold catalogue text."""
_NON_ALNUM = re.compile(r"[^0-9a-z]+")

# A cheap first pass: 13+ characters of digits, spaces and dashes, starting and ending with a digit.
_CARD_CANDIDATE = re.compile(r"[0-9][0-9 -]{11,}[0-9]")
# Digit groups joined by single separators; a card number is some consecutive groups of such a run.
_DIGIT_RUN = re.compile(r"[0-9]+(?:[ -][0-9]+)*")
_SEPARATOR = re.compile(r"([ -])")
_EMAIL = re.compile(r"(?<![\w.%+-])([\w.%+-]+)@([\w-]+(?:\.[\w-]+)+)")
# Truncation could cut a card number or an address in half and hide the rest from the scanners, so the
# cut also drops the trailing run (up to _CUT_WINDOW characters) that could belong to one.
_CUT_TOKEN = re.compile(r"[\w.%+@ -]+$")
_CUT_WINDOW: Final = 96

_LUHN_DOUBLED: Final = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
_CARD_INT_MIN: Final = 10**12
_CARD_INT_MAX: Final = 10**19
_INT64_MIN: Final = -(2**63)
_UINT64_MAX: Final = 2**64 - 1


def luhn_valid(digits: str) -> bool:
    """Whether a string of ASCII digits passes the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        total += _LUHN_DOUBLED[digit] if position % 2 else digit
    return total % 10 == 0


def _masked(digits: str) -> str:
    return "*" * (len(digits) - 4) + digits[-4:]


def _mask_run(match: re.Match[str]) -> str:
    run = match.group()
    if len(run) < 13:
        return run
    parts = _SEPARATOR.split(run)
    groups, separators = parts[0::2], parts[1::2]
    pieces: list[str] = []
    start = 0
    while start < len(groups):
        total, best = 0, -1
        for end in range(start, len(groups)):
            total += len(groups[end])
            if total > 19:
                break
            if total >= 13 and luhn_valid("".join(groups[start : end + 1])):
                best = end
        if best < 0:
            pieces.append(groups[start])
            best = start
        else:
            pieces.append(_masked("".join(groups[start : best + 1])))
        if best + 1 < len(groups):
            pieces.append(separators[best])
        start = best + 1
    return "".join(pieces)


def mask_card_numbers(text: str) -> str:
    """`text` with every Luhn-valid 13-19 digit card number masked to its last four digits."""
    if _CARD_CANDIDATE.search(text) is None:
        return text
    return _DIGIT_RUN.sub(_mask_run, text)


def _mask_email(match: re.Match[str]) -> str:
    return f"{match.group(1)[0]}***@{match.group(2)}"


def _hash_email(match: re.Match[str]) -> str:
    digest = hashlib.sha256(match.group().lower().encode("utf-8", "replace")).hexdigest()
    return f"sha256:{digest[:16]}"


def anonymize_ip(value: str) -> str:
    """An IPv4 address with its last octet zeroed, an IPv6 address cut to its /48; other text unchanged."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return value
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def safe_str(value: object) -> str:
    """`str(value)`, falling back to `repr` and then to the type name; never raises."""
    for render in (str, repr):
        try:
            text = render(value)
        except Exception:
            continue
        if type(text) is str:
            return text
    try:
        return f"<unprintable {type(value).__name__}>"
    except Exception:
        return "<unprintable>"


def classify_key(key: str, extra_suffixes: Iterable[str] = ()) -> int:
    """`_SECRET`, `_IP` or `_PLAIN` for a field name."""
    normalised = _NON_ALNUM.sub("", key.lower())
    if normalised.endswith((*SENSITIVE_KEY_SUFFIXES, *extra_suffixes)):
        return _SECRET
    lowered = key.lower()
    if lowered == "ip" or lowered.endswith(_IP_KEY_SUFFIXES):
        return _IP
    return _PLAIN


def is_sensitive_key(key: str) -> bool:
    return classify_key(key) == _SECRET


class _Walk:
    """Per-line state: the remaining node budget and the containers on the current path (for cycles)."""

    __slots__ = ("active", "nodes")

    def __init__(self, nodes: int) -> None:
        self.nodes = nodes
        self.active: set[int] = set()


class Redactor:
    """structlog processor; see the module docstring."""

    def __init__(
        self,
        *,
        email_redaction: str = "mask",
        anonymize_ip: bool = False,
        max_string_length: int = 8192,
        max_depth: int = 8,
        max_items: int = 100,
        max_nodes: int = 2000,
        extra_sensitive_keys: Iterable[str] = (),
    ) -> None:
        self._email: Callable[[re.Match[str]], str] = _hash_email if email_redaction == "hash" else _mask_email
        self._anonymize_ip = anonymize_ip
        self._max_len = max_string_length
        self._max_depth = max_depth
        self._max_items = max_items
        self._max_nodes = max_nodes
        self._extra = tuple(_NON_ALNUM.sub("", k.lower()) for k in extra_sensitive_keys)
        self._kinds: dict[str, int] = dict(_FIXED_KINDS)
        # Catalogue names and messages are the logger's own text; scanning them would only cost time.
        self._trusted = frozenset(CATALOGUE) | {spec.message for spec in CATALOGUE.values()}

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        walk: _Walk | None = None
        kinds = self._kinds
        card_candidate = _CARD_CANDIDATE.search
        max_len = self._max_len
        for key, value in event_dict.items():
            cls = type(value)
            # Floats, booleans and None can carry nothing worth hiding, whatever their key.
            if cls is float or cls is bool or value is None:
                continue
            kind = kinds.get(key)
            if kind is None:
                kind = self._kind(key)
            if kind:
                if kind == _SECRET:
                    event_dict[key] = REDACTED
                    continue
                if kind == _SKIP or (kind == _OWN and cls is str and value in self._trusted):
                    continue
                if kind == _IP and self._anonymize_ip and cls is str:
                    event_dict[key] = self._text(anonymize_ip(value))
                    continue
            if cls is str:
                # Only strings the cheap checks flag go through `_text`: a card number needs 13
                # characters of digits and separators, an address needs an `@`.
                length = len(value)
                if length > max_len:
                    event_dict[key] = self._truncate(value)
                elif (length >= 13 and card_candidate(value) is not None) or "@" in value:
                    event_dict[key] = self._text(value)
            elif cls is int:
                if not -_CARD_INT_MIN < value < _CARD_INT_MIN:
                    event_dict[key] = self._int(value)
            else:
                if walk is None:
                    walk = _Walk(self._max_nodes)
                event_dict[key] = self._clean(value, 0, walk)
        return event_dict

    # --- keys ----------------------------------------------------------------------------------------

    def _kind(self, key: object) -> int:
        text = key if type(key) is str else safe_str(key)
        kind = classify_key(text, self._extra)
        if len(self._kinds) >= 4096:
            self._kinds = dict(_FIXED_KINDS)
        self._kinds[text] = kind
        return kind

    # --- scalars -------------------------------------------------------------------------------------

    def _text(self, text: str) -> str:
        if len(text) > self._max_len:
            return self._truncate(text)
        if len(text) >= 13 and _CARD_CANDIDATE.search(text) is not None:
            text = _DIGIT_RUN.sub(_mask_run, text)
        if "@" in text:
            text = _EMAIL.sub(self._email, text)
        return text

    def _truncate(self, text: str) -> str:
        kept = text[: self._max_len]
        cut = _CUT_TOKEN.search(kept, len(kept) - _CUT_WINDOW)
        if cut is not None:
            kept = kept[: cut.start()]
        dropped = len(text) - len(kept)
        return f"{self._text(kept)}…[truncated {dropped} chars]"

    def _int(self, value: int) -> int | str:
        if _CARD_INT_MIN <= value < _CARD_INT_MAX:
            digits = str(value)
            return _masked(digits) if luhn_valid(digits) else value
        if _INT64_MIN <= value <= _UINT64_MAX:
            return value
        try:
            return self._text(str(value))
        except ValueError:  # beyond the interpreter's int-to-str digit limit
            return f"<int of {value.bit_length()} bits>"

    # --- containers and other objects ---------------------------------------------------------------

    def _clean(self, value: Any, depth: int, walk: _Walk) -> Any:
        walk.nodes -= 1
        if walk.nodes < 0:
            return NODE_LIMIT
        cls = type(value)
        if cls is str:
            return self._text(value)
        if cls is int:
            return self._int(value)
        if cls is float or cls is bool or value is None:
            return value
        try:
            if cls is dict:
                return self._mapping(value, depth, walk)
            if cls is list or cls is tuple:
                return self._sequence(value, depth, walk)
            return self._other(value, depth, walk)
        except Exception:
            return f"[unrepresentable {safe_str(cls.__qualname__)}]"

    def _enter(self, value: object, depth: int, walk: _Walk) -> str | None:
        if depth >= self._max_depth:
            return DEPTH_LIMIT
        if id(value) in walk.active:
            return CIRCULAR
        walk.active.add(id(value))
        return None

    def _mapping(self, value: Mapping[Any, Any], depth: int, walk: _Walk) -> Any:
        stop = self._enter(value, depth, walk)
        if stop is not None:
            return stop
        try:
            out: dict[str, Any] = {}
            for key, item in islice(value.items(), self._max_items):
                name = self._text(key if type(key) is str else safe_str(key))
                kind = self._kinds.get(name)
                if kind is None:
                    kind = self._kind(name)
                if kind == _SECRET:
                    out[name] = REDACTED
                elif kind == _IP and self._anonymize_ip and type(item) is str:
                    out[name] = self._text(anonymize_ip(item))
                else:
                    out[name] = self._clean(item, depth + 1, walk)
            extra = len(value) - self._max_items
            if extra > 0:
                out["[truncated]"] = f"{extra} more keys"
            return out
        finally:
            walk.active.discard(id(value))

    def _sequence(self, value: Iterable[Any], depth: int, walk: _Walk) -> Any:
        stop = self._enter(value, depth, walk)
        if stop is not None:
            return stop
        try:
            out = [self._clean(item, depth + 1, walk) for item in islice(value, self._max_items)]
            extra = len(value) - self._max_items  # type: ignore[arg-type]  # only sized containers get here
            if extra > 0:
                out.append(f"[{extra} more items]")
            return out
        finally:
            walk.active.discard(id(value))

    def _other(self, value: Any, depth: int, walk: _Walk) -> Any:
        # Subclasses of the JSON types are reduced to the base type, so their overrides never run.
        if isinstance(value, str):
            return self._text(str.__str__(value))
        if isinstance(value, int):
            return self._int(int.__int__(value))
        if isinstance(value, float):
            return float.__float__(value)
        if isinstance(value, enum.Enum):
            return self._clean(value.value, depth, walk)
        if isinstance(value, Decimal):
            return float(value) if value.is_finite() else str(value)
        if isinstance(value, dt.datetime | dt.date | dt.time):
            return value.isoformat()
        if isinstance(value, UUID):
            return str(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return self._text(bytes(value[: self._max_len + 1]).decode("utf-8", "replace"))
        if isinstance(value, Mapping):
            return self._mapping(value, depth, walk)
        if isinstance(value, list | tuple | Set | deque):
            return self._sequence(value, depth, walk)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return self._mapping(fields, depth, walk)
        structlog_repr = getattr(type(value), "__structlog__", None)
        if callable(structlog_repr):
            return self._clean(structlog_repr(value), depth, walk)
        if isinstance(value, BaseException):
            return self._text(f"{type(value).__name__}: {safe_str(value)}")
        return self._text(safe_str(value))
