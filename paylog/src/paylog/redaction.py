"""The redaction processor: card numbers, secrets and personal data never leave the process.

It walks every caller-supplied value and key (nested ones too) and returns values orjson can always encode:

- Luhn-valid 13-19 digit card numbers keep only their last four digits (`************4242`), whether
  written plainly, in groups split by single spaces, dashes, dots, `+` or `%20`, or given as an int, a
  float or a `Decimal` (negative ones included). Two shapes are not cards: a UUID of decimal digits
  (8-4-4-4-12) and an epoch timestamp (13, 16 or 19 digits, milliseconds, microseconds or nanoseconds
  between 2001 and 2039: a value whose leading digits are 1.0-2.2, which no card network issues);
- values under secret names become `[REDACTED]` (see `SECRET_NAMES`), and so do the values after such
  names in free text (`api_key=…`, `"password": "…"`, `Authorization: Bearer …`, `user:pass@` in URLs);
- email addresses, URL-encoded ones too, are masked (`j***@example.com`) or replaced by an unsalted
  SHA-256 pseudonym (`sha256:<16 hex>`, stable per address so one user's lines still correlate);
- IP addresses under IP keys are kept (security monitors need them) unless anonymisation is on;
- names count inside every structure: mappings of any kind, sequences of `(name, value)` pairs (ASGI
  headers), namedtuples, dataclasses, pydantic models, attrs classes and `SimpleNamespace`;
- over-long strings and keys are scanned first and cut afterwards, never inside a token, so a cut can
  never leave part of a card number or an address behind; containers are cut at a size, depth and
  total-node budget, cycles become a marker, and objects JSON cannot encode are rendered with `str()`
  (never raising).

The logger's own fields (timestamp, service, correlation ID, ...) are added after this processor runs,
so they are never scanned and never mangled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import ipaddress
import math
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Set
from decimal import Decimal
from itertools import islice
from types import SimpleNamespace
from typing import Any, Final
from uuid import UUID

from structlog.typing import EventDict, WrappedLogger

from paylog.catalogue import CATALOGUE

REDACTED: Final = "[REDACTED]"
CIRCULAR: Final = "[circular]"
DEPTH_LIMIT: Final = "[depth limit]"
NODE_LIMIT: Final = "[node limit]"
MAX_KEY_LENGTH: Final = 256

SECRET_NAMES: Final = frozenset(
    {
        # passwords and keys
        "password",
        "passwd",
        "passphrase",
        "passcode",
        "pwd",
        "secret",
        "token",
        "apikey",
        "accesskey",
        "privatekey",
        "secretkey",
        "signingkey",
        "authorization",
        "bearer",
        "cookie",
        "credential",
        "credentials",
        "jwt",
        "otp",
        # cards
        "cvv",
        "cvc",
        "cvn",
        "cvd",
        "cav",
        "securitycode",
        "cardnumber",
        "cardno",
        "ccnumber",
        "ccnum",
        "pan",
        "pin",
        "pinblock",
        # identity
        "ssn",
        "socialsecuritynumber",
    }
)
"""Secret names, as lower-case word parts joined together.

A field name is split into words at `_`, `-`, `.`, spaces, camelCase humps and digits (`userPIN` →
user, pin; `cvv2` → cvv, 2; `X-API-Key` → x, api, key). It is secret when some consecutive words join
into one of these names, or when its letters and digits, run together, end in one of the names of five
or more characters (`userpassword`). Extend the list per service with
`configure(extra_sensitive_keys={"iban"})`.
"""

_IP_KEY_SUFFIXES: Final = ("_ip", ".ip", "-ip", "ip_address", "ipaddress", "ip_addr")

_PLAIN, _SECRET, _IP, _SKIP, _OWN, _TAIL = 0, 1, 2, 3, 4, 5
_RENAME: Final = 8
"""Flag on a key's kind: the key itself carries something to hide or is too long, so it is rewritten."""
_FIXED_KINDS: Final = {"exc_info": _SKIP, "event": _OWN, "event_type": _OWN, "error.stack": _TAIL}
"""`exc_info` is the exception itself; `event` and `event_type` usually hold catalogue text; a stack keeps
its end, where the raising frame is."""
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

# A cheap first pass: 13+ characters of digits and separators, starting and ending with a digit.
_CARD_CANDIDATE = re.compile(r"[0-9][0-9 .+%-]{11,}[0-9]")
# Digit groups joined by single separators; a card number is some consecutive groups of such a run.
_DIGIT_RUN = re.compile(r"[0-9]+(?:(?:[ .+-]|%20)[0-9]+)*")
_SEPARATOR = re.compile(r"([ .+-]|%20)")
_DECIMAL_UUID = re.compile(r"[0-9]{8}-[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{12}")
_EMAIL = re.compile(r"(?<![\w.%+-])([\w.%+-]+?)(?:@|%40)([\w-]+(?:\.[\w-]+)+)")
# `name=value`, `name: value`, `"name": "value"`: the value after a secret name in free text.
_NAME_VALUE = re.compile(
    r"""(?P<name>[A-Za-z_][\w.-]{0,63})(?P<sep>["']?[ \t]{0,3}[:=](?!//)[ \t]{0,3})"""
    r"""(?P<value>"[^"]*"?|'[^']*'?|(?i:(?:bearer|basic|digest|token)[ \t]+)?[^\s&;,"'<>)}\]]+)"""
)
_AUTH_SCHEME = re.compile(r"\b((?i:bearer|basic|digest))[ \t]+[A-Za-z0-9._~+/=-]+")
_URL_PASSWORD = re.compile(r"(://[^/\s:@]+):[^/\s@]+@")
# Characters that cannot end a token: a cut next to one of them splits nothing.
_TOKEN_BREAKS: Final = frozenset(" \t\r\n\"',;()[]{}<>|")

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


def looks_like_epoch(digits: str) -> bool:
    """Whether plain digits read as an epoch time in ms, µs or ns between 2001 and 2039 (not a card)."""
    return len(digits) in (13, 16, 19) and (digits[0] == "1" or (digits[0] == "2" and digits[1] in "01"))


def is_card_number(digits: str) -> bool:
    """Whether plain digits are a card number: 13-19 of them, Luhn-valid, not an epoch timestamp."""
    return 13 <= len(digits) <= 19 and luhn_valid(digits) and not looks_like_epoch(digits)


def _masked(digits: str) -> str:
    return "*" * (len(digits) - 4) + digits[-4:]


def _mask_run(match: re.Match[str]) -> str:
    run = match.group()
    if len(run) < 13 or _DECIMAL_UUID.fullmatch(run):
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
            if total >= 13:
                digits = "".join(groups[start : end + 1])
                if luhn_valid(digits) and not (end == start and looks_like_epoch(digits)):
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
    """`text` with every card number (see the module docstring) masked to its last four digits."""
    if _CARD_CANDIDATE.search(text) is None:
        return text
    return _DIGIT_RUN.sub(_mask_run, text)


def _mask_email(match: re.Match[str]) -> str:
    return f"{match.group(1)[0]}***@{match.group(2)}"


def _hash_email(match: re.Match[str]) -> str:
    address = f"{match.group(1)}@{match.group(2)}".lower()
    digest = hashlib.sha256(address.encode("utf-8", "replace")).hexdigest()
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


def name_words(name: str) -> list[str]:
    """The lower-case word parts of a field name (`X-API-Key` → x, api, key)."""
    return [word.lower() for word in _WORD.findall(name)]


def _normalised(names: Iterable[str]) -> frozenset[str]:
    return frozenset(_NON_ALNUM.sub("", name.lower()) for name in names) - {""}


def _is_secret_name(name: str, secret_names: frozenset[str], long_names: tuple[str, ...]) -> bool:
    words = name_words(name)
    for start in range(len(words)):
        joined = ""
        for word in words[start : start + 4]:
            joined += word
            if joined in secret_names:
                return True
    return _NON_ALNUM.sub("", name.lower()).endswith(long_names)


def classify_key(key: str, extra_names: Iterable[str] = ()) -> int:
    """`_SECRET`, `_IP` or `_PLAIN` for a field name."""
    names = SECRET_NAMES | _normalised(extra_names)
    if _is_secret_name(key, names, tuple(n for n in names if len(n) >= 5)):
        return _SECRET
    lowered = key.lower()
    if lowered == "ip" or lowered.endswith(_IP_KEY_SUFFIXES):
        return _IP
    return _PLAIN


def is_sensitive_key(key: str) -> bool:
    return classify_key(key) == _SECRET


def _breaks(text: str, index: int) -> bool:
    """Whether a cut before `text[index]` splits nothing: a token break on either side."""
    if index <= 0 or index >= len(text):
        return True
    before, after = text[index - 1], text[index]
    if before in _TOKEN_BREAKS and not (before == " " and after.isdigit() and text[index - 2 : index - 1].isdigit()):
        return True
    return after in _TOKEN_BREAKS and not (after == " " and before.isdigit() and text[index + 1 : index + 2].isdigit())


def cut_head(text: str, limit: int) -> str:
    """At most `limit` characters from the start of `text`, ending before any token the limit splits.

    A token is a run without spaces or quotes, or digits joined by single spaces, so no part of a card
    number, an address or a secret survives a cut.
    """
    if len(text) <= limit:
        return text
    end = limit
    while not _breaks(text, end):
        end -= 1
    return text[:end]


def cut_tail(text: str, limit: int) -> str:
    """At most `limit` characters from the end of `text`, starting after any token the limit splits."""
    if len(text) <= limit:
        return text
    start = len(text) - limit
    while not _breaks(text, start):
        start += 1
    return text[start:]


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
        self._secret_names = SECRET_NAMES | _normalised(extra_sensitive_keys)
        self._long_names = tuple(name for name in self._secret_names if len(name) >= 5)
        self._kinds: dict[str, int] = dict(_FIXED_KINDS)
        self._names: dict[str, str] = {}
        # Catalogue names and messages are the logger's own text; scanning them would only cost time.
        self._trusted = frozenset(CATALOGUE) | {spec.message for spec in CATALOGUE.values()}

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        walk: _Walk | None = None
        renamed = False
        kinds = self._kinds
        card_candidate = _CARD_CANDIDATE.search
        max_len = self._max_len
        for key, value in event_dict.items():
            cls = type(value)
            # Booleans and None can carry nothing worth hiding, whatever their key.
            if cls is bool or value is None:
                continue
            kind = kinds.get(key)
            if kind is None:
                kind = self._kind(key)
            if kind:
                if kind & _RENAME:
                    renamed = True
                    kind &= ~_RENAME
                if kind == _SECRET:
                    event_dict[key] = REDACTED
                    continue
                if kind == _SKIP or (kind == _OWN and cls is str and value in self._trusted):
                    continue
                if kind == _IP and self._anonymize_ip and cls is str:
                    event_dict[key] = self._text(anonymize_ip(value))
                    continue
                if kind == _TAIL and cls is str:
                    event_dict[key] = self._text(value, tail=True)
                    continue
            if cls is str:
                # Only strings the cheap checks flag go through `_text`: a card number needs 13
                # characters of digits and separators, an address an `@` (or `%40`), a secret in
                # free text an `=` or `: ` after its name.
                if (
                    len(value) > max_len
                    or (len(value) >= 13 and card_candidate(value) is not None)
                    or "@" in value
                    or "=" in value
                    or ": " in value
                    or '":' in value
                    or "%40" in value
                    or "earer " in value
                    or "asic " in value
                ):
                    event_dict[key] = self._text(value)
            elif cls is float:
                if not -1e12 < value < 1e12:
                    event_dict[key] = self._float(value)
            elif cls is int:
                if not -_CARD_INT_MIN < value < _CARD_INT_MIN:
                    event_dict[key] = self._int(value)
            else:
                if walk is None:
                    walk = _Walk(self._max_nodes)
                event_dict[key] = self._clean(value, 0, walk)
        if renamed:
            return self._rename_keys(event_dict)
        return event_dict

    # --- keys ----------------------------------------------------------------------------------------

    def _kind(self, key: object) -> int:
        text = key if type(key) is str else safe_str(key)
        if self._is_secret(text):
            kind = _SECRET
        else:
            kind = classify_key(text) if text not in _FIXED_KINDS else _FIXED_KINDS[text]
        if self._name(text) != text:
            kind |= _RENAME
        if len(self._kinds) >= 4096:
            self._kinds = dict(_FIXED_KINDS)
        self._kinds[text] = kind
        return kind

    def _is_secret(self, name: str) -> bool:
        return _is_secret_name(name, self._secret_names, self._long_names)

    def _name(self, key: str) -> str:
        """The key as written: scanned like any text, then cut to `MAX_KEY_LENGTH`."""
        name = self._names.get(key)
        if name is None:
            name = self._text(key)
            if len(name) > MAX_KEY_LENGTH:
                name = f"{cut_head(name, MAX_KEY_LENGTH - 16)}…[key cut]"
            if len(self._names) >= 4096:
                self._names = {}
            self._names[key] = name
        return name

    def _rename_keys(self, event_dict: EventDict) -> EventDict:
        out: EventDict = {}
        for key, value in event_dict.items():
            name = self._name(key)
            while name in out:
                name += "_"
            out[name] = value
        return out

    # --- scalars -------------------------------------------------------------------------------------

    def _text(self, text: str, tail: bool = False) -> str:
        if len(text) > self._max_len:
            return self._truncate(text, tail)
        return self._scan(text)

    def _scan(self, text: str) -> str:
        if len(text) >= 13 and _CARD_CANDIDATE.search(text) is not None:
            text = _DIGIT_RUN.sub(_mask_run, text)
        if "@" in text or "%40" in text:
            if "://" in text:
                text = _URL_PASSWORD.sub(r"\1:" + REDACTED + "@", text)
            text = _EMAIL.sub(self._email, text)
        if "=" in text or ":" in text:
            text = _NAME_VALUE.sub(self._secret_value, text)
        if "earer" in text or "asic" in text or "igest" in text or "EARER" in text or "ASIC" in text:
            text = _AUTH_SCHEME.sub(r"\1 " + REDACTED, text)
        return text

    def _secret_value(self, match: re.Match[str]) -> str:
        if not self._is_secret(match.group("name")):
            return match.group()
        value = match.group("value")
        quote = value[0] if value[:1] in ("'", '"') else ""
        return f"{match.group('name')}{match.group('sep')}{quote}{REDACTED}{quote}"

    def _truncate(self, text: str, tail: bool = False) -> str:
        # Scan before cutting, so a cut never hides part of something the scanners would have caught;
        # only a bounded window is scanned, and it too ends where no token is split.
        window = self._max_len * 4
        cut = cut_tail if tail else cut_head
        kept = cut(self._scan(cut(text, window)), self._max_len)
        dropped = len(text) - len(kept)
        if tail:
            return f"[truncated {dropped} chars]…{kept}"
        return f"{kept}…[truncated {dropped} chars]"

    def _int(self, value: int) -> int | str:
        magnitude = -value if value < 0 else value
        if _CARD_INT_MIN <= magnitude < _CARD_INT_MAX:
            digits = str(magnitude)
            if is_card_number(digits):
                return ("-" if value < 0 else "") + _masked(digits)
            return value
        if _INT64_MIN <= value <= _UINT64_MAX:
            return value
        try:
            return self._text(str(value))
        except ValueError:  # beyond the interpreter's int-to-str digit limit
            return f"<int of {value.bit_length()} bits>"

    def _float(self, value: float) -> float | int | str:
        if not math.isfinite(value):
            return value
        if value.is_integer() and abs(value) < _CARD_INT_MAX:
            masked = self._int(int(value))
            return value if masked == int(value) else masked
        text = repr(value)
        scanned = self._scan(text)
        return value if scanned == text else scanned

    def _decimal(self, value: Decimal) -> float | int | str:
        if not value.is_finite():
            return str(value)
        if value == value.to_integral_value() and abs(value) < _CARD_INT_MAX:
            masked = self._int(int(value))
            return float(value) if isinstance(masked, int) else masked
        text = format(value, "f")
        scanned = self._scan(text)
        return float(value) if scanned == text else scanned

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
        if cls is float:
            return value if -1e12 < value < 1e12 else self._float(value)
        if cls is bool or value is None:
            return value
        try:
            if cls is dict:
                return self._mapping(value, value.items(), len(value), depth, walk)
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

    def _named(self, key: object, item: Any, depth: int, walk: _Walk) -> tuple[str, Any]:
        """`(name, value)` as written: the name scanned, the value redacted by the name or cleaned."""
        if isinstance(key, bytes | bytearray):
            key = bytes(key[:MAX_KEY_LENGTH]).decode("utf-8", "replace")
        raw = key if type(key) is str else safe_str(key)
        name = self._name(raw)
        if self._is_secret(raw):
            return name, REDACTED
        if self._anonymize_ip and type(item) is str and classify_key(raw) == _IP:
            return name, self._text(anonymize_ip(item))
        return name, self._clean(item, depth + 1, walk)

    def _mapping(self, container: object, items: Iterable[tuple[Any, Any]], size: int, depth: int, walk: _Walk) -> Any:
        stop = self._enter(container, depth, walk)
        if stop is not None:
            return stop
        try:
            out: dict[str, Any] = {}
            for count, (key, item) in enumerate(items):
                if count >= self._max_items:
                    out["[truncated]"] = f"{max(size, count + 1) - self._max_items} more keys"
                    break
                name, cleaned = self._named(key, item, depth, walk)
                while name in out:
                    name += "_"
                out[name] = cleaned
            return out
        finally:
            walk.active.discard(id(container))

    def _sequence(self, value: Iterable[Any], depth: int, walk: _Walk) -> Any:
        stop = self._enter(value, depth, walk)
        if stop is not None:
            return stop
        try:
            out: list[Any] = []
            for item in islice(value, self._max_items):
                if type(item) in (tuple, list) and len(item) == 2 and isinstance(item[0], str | bytes | bytearray):
                    # A `(name, value)` pair, as in ASGI headers: the name decides like a key does.
                    walk.nodes -= 1
                    out.append(list(self._named(item[0], item[1], depth + 1, walk)))
                else:
                    out.append(self._clean(item, depth + 1, walk))
            extra = len(value) - self._max_items  # type: ignore[arg-type]  # only sized containers get here
            if extra > 0:
                out.append(f"[{extra} more items]")
            return out
        finally:
            walk.active.discard(id(value))

    def _fields(self, value: Any) -> dict[str, Any] | None:
        """The named fields of a record-like object, or None if it is not one."""
        cls = type(value)
        if isinstance(value, tuple) and isinstance(getattr(cls, "_fields", None), tuple):
            return dict(zip(cls._fields, value, strict=False))  # a namedtuple
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
        model_fields = getattr(cls, "__pydantic_fields__", None) or getattr(cls, "__fields__", None)
        if isinstance(model_fields, dict):  # a pydantic model (v2, or v1)
            return {name: getattr(value, name, None) for name in model_fields}
        attrs_fields = getattr(cls, "__attrs_attrs__", None)
        if attrs_fields is not None:
            return {a.name: getattr(value, a.name, None) for a in attrs_fields}
        if isinstance(value, SimpleNamespace):
            return dict(vars(value))
        return None

    def _other(self, value: Any, depth: int, walk: _Walk) -> Any:
        # Subclasses of the JSON types are reduced to the base type, so their overrides never run.
        if isinstance(value, str):
            return self._text(str.__str__(value))
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return self._int(int.__int__(value))
        if isinstance(value, float):
            return self._clean(float.__float__(value), depth, walk)
        if isinstance(value, enum.Enum):
            return self._clean(value.value, depth, walk)
        if isinstance(value, Decimal):
            return self._decimal(value)
        if isinstance(value, dt.datetime | dt.date | dt.time):
            return value.isoformat()
        if isinstance(value, UUID):
            return str(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return self._text(bytes(value[: self._max_len * 4 + 1]).decode("utf-8", "replace"))
        fields = self._fields(value)
        if fields is not None:
            return self._mapping(value, fields.items(), len(fields), depth, walk)
        if isinstance(value, Mapping):
            return self._mapping(value, value.items(), len(value), depth, walk)
        if isinstance(value, list | tuple | Set | deque):
            return self._sequence(value, depth, walk)
        structlog_repr = getattr(type(value), "__structlog__", None)
        if callable(structlog_repr):
            return self._clean(structlog_repr(value), depth, walk)
        if isinstance(value, BaseException):
            return self._text(f"{type(value).__name__}: {safe_str(value)}")
        items = getattr(value, "items", None)
        if callable(items) and callable(getattr(value, "keys", None)):
            # Mapping-like without being a Mapping (email.message.Message, multidicts): its pairs.
            pairs = list(islice(items(), self._max_items + 1))
            return self._mapping(value, iter(pairs), len(pairs), depth, walk)
        return self._text(safe_str(value))


_PREVIEW: Final = Redactor()


def preview(value: object, limit: int = 40) -> str:
    """`repr(value)` scanned like a logged value, then cut to `limit` characters (for messages)."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    scanned = _PREVIEW._text(text)
    if len(scanned) <= limit:
        return scanned
    return cut_head(scanned, limit - 1) + "…"
