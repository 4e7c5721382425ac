"""Grok filters: what `%{matcher:attribute:filter}` does to a matched value before it is written.

A filter that cannot apply (a number that is not one, JSON that does not parse) leaves the attribute out,
as Datadog's own grok library does (vectordotdev/vrl `lib/datadog/grok`, "ignores_field_if_filter_fails").
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Final
from urllib.parse import unquote
from xml.etree import ElementTree

import orjson
from lark import Lark, Transformer, UnexpectedInput

from logmon.emulator.grok.syntax import Call
from logmon.emulator.grok.web import query_string, url_details, useragent_details

Filter = Callable[[Any], Any]
FAILED: Final = object()
"""A filter's result when it cannot apply: the attribute is left out."""


class GrokFilterError(ValueError):
    """A filter that does not exist or whose arguments are wrong."""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 2**53 else str(value)
    return value if isinstance(value, str) else str(value)


def to_number(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        number = float(_text(value).strip())
    except ValueError:
        return FAILED
    return number if math.isfinite(number) else FAILED


def to_integer(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = _text(value).strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    return FAILED


def to_boolean(value: Any) -> Any:
    text = _text(value).strip().lower()
    return {"true": True, "false": False}.get(text, FAILED)


def parse_json(value: Any) -> Any:
    try:
        return orjson.loads(_text(value))
    except orjson.JSONDecodeError:
        return FAILED


_RUBY_GRAMMAR: Final = r"""
    ?value: hash | array | STRING -> string | NUMBER -> number | "nil" -> null | "true" -> true
          | "false" -> false | SYMBOL -> symbol | BARE -> bare
    hash: "{" [pair ("," pair)*] "}"
    pair: value "=>" value | LABEL value -> label_pair
    array: "[" [value ("," value)*] "]"
    STRING: /"(?:[^"\\]|\\.)*"/ | /'(?:[^'\\]|\\.)*'/
    NUMBER: /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/
    SYMBOL: /:[A-Za-z_][A-Za-z0-9_]*/
    LABEL.2: /[A-Za-z_][A-Za-z0-9_]*:(?!:)/
    BARE: /[A-Za-z_][A-Za-z0-9_.\-]*/
    %ignore /\s+/
"""
_RUBY: Final = Lark(_RUBY_GRAMMAR, start="value", parser="lalr")


class _Ruby(Transformer[Any, Any]):
    def string(self, items: list[Any]) -> str:
        body = str(items[0])[1:-1]
        return re.sub(r"\\(.)", r"\1", body)

    def number(self, items: list[Any]) -> int | float:
        text = str(items[0])
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)

    def null(self, _: list[Any]) -> None:
        return None

    def true(self, _: list[Any]) -> bool:
        return True

    def false(self, _: list[Any]) -> bool:
        return False

    def symbol(self, items: list[Any]) -> str:
        return str(items[0])[1:]

    def bare(self, items: list[Any]) -> str:
        return str(items[0])

    def pair(self, items: list[Any]) -> tuple[str, Any]:
        return _text(items[0]), items[1]

    def label_pair(self, items: list[Any]) -> tuple[str, Any]:
        return str(items[0])[:-1], items[1]

    def hash(self, items: list[Any]) -> dict[str, Any]:
        return dict(item for item in items if item is not None)

    def array(self, items: list[Any]) -> list[Any]:
        return list(items)


def parse_rubyhash(value: Any) -> Any:
    try:
        result = _Ruby().transform(_RUBY.parse(_text(value)))
    except UnexpectedInput:
        return FAILED
    return result if isinstance(result, dict) else FAILED


def _xml_value(element: ElementTree.Element) -> Any:
    children: dict[str, Any] = {}
    for child in element:
        converted = _xml_value(child)
        if child.tag in children:
            existing = children[child.tag]
            children[child.tag] = [*existing, converted] if isinstance(existing, list) else [existing, converted]
        else:
            children[child.tag] = converted
    text = (element.text or "").strip()
    if not element.attrib and not children:
        return text
    result: dict[str, Any] = {**element.attrib, **children}
    if text:
        result["value"] = text
    return result


def parse_xml(value: Any) -> Any:
    try:
        root = ElementTree.fromstring(_text(value))
    except ElementTree.ParseError:
        return FAILED
    return {root.tag: _xml_value(root)}


_DEFAULT_QUOTES: Final = (("<", ">"), ('"', '"'), ("'", "'"))
_DEFAULT_VALUE_CHARS: Final = r"\w.\-_@"


def keyvalue_filter(
    separator: str = "=", allowed: str = "", quoting: str = "", delimiter: str = ""
) -> Callable[[Any], Any]:
    """`keyvalue([separatorStr[, characterAllowList[, quotingStr[, delimiter]]]])`."""
    if not separator:
        raise GrokFilterError("keyvalue: the separator cannot be empty")
    quotes = (
        _DEFAULT_QUOTES
        if not quoting
        else tuple(
            (quoting[i], quoting[i + 1] if i + 1 < len(quoting) else quoting[i]) for i in range(0, len(quoting), 2)
        )
    )
    chars = f"[{_DEFAULT_VALUE_CHARS}{re.escape(allowed)}]"
    quoted = "|".join(
        f"{re.escape(open_)}(?P<q{index}>[^{re.escape(close)}]*){re.escape(close)}"
        for index, (open_, close) in enumerate(quotes)
    )
    key_quoted = "|".join(
        f"{re.escape(open_)}(?P<k{index}>[^{re.escape(close)}]*){re.escape(close)}"
        for index, (open_, close) in enumerate(_DEFAULT_QUOTES)
    )
    boundary = f"(?:(?<=^)|(?<=[\\s,;{re.escape(delimiter)}]))" if delimiter else r"(?:(?<=^)|(?<=[\s,;]))"
    pattern = re.compile(
        f"{boundary}(?:{key_quoted}|(?P<key>{chars}+)){re.escape(separator)}(?:{quoted}|(?P<value>{chars}*))"
    )

    def apply(value: Any) -> Any:
        result: dict[str, Any] = {}
        for match in pattern.finditer(_text(value)):
            groups = match.groupdict()
            key = groups["key"] or next((v for k, v in groups.items() if k.startswith("k") and v), None)
            found = groups["value"]
            if found is None:
                found = next((v for k, v in groups.items() if k.startswith("q") and v is not None), None)
            if key and found and found != "null":
                result[key] = found
        return result

    return apply


def _cast(text: str) -> Any:
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?", text):
        return float(text)
    return text


def csv_filter(headers: str, separator: str = ",", quote: str = '"') -> Callable[[Any], Any]:
    """`csv(headers[, separator[, quotingcharacter]])`: integers and doubles are cast; empty values left out."""
    names = [name.strip() for name in headers.split(",")]
    if not all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) for name in names):
        raise GrokFilterError("csv: header names start with a letter and hold letters, digits and `_`")
    separator = "\t" if separator == "tab" else separator
    if len(separator) != 1 or len(quote) != 1:
        raise GrokFilterError("csv: the separator and the quoting character are one character each")

    def apply(value: Any) -> Any:
        rows = list(csv.reader([_text(value)], delimiter=separator, quotechar=quote, doublequote=True))
        if not rows:
            return FAILED
        return {name: _cast(cell) for name, cell in zip(names, rows[0], strict=False) if cell != ""}

    return apply


def array_filter(args: Sequence[Any], build: Callable[[Call], Filter]) -> Callable[[Any], Any]:
    """`array([[openCloseStr, ] separator][, subRuleOrFilter])`."""
    texts = [arg for arg in args if isinstance(arg, str)]
    inner = next((build(arg) for arg in args if isinstance(arg, Call)), None)
    if len(texts) > 2 or len(args) - len(texts) > 1:
        raise GrokFilterError("array takes an open/close pair, a separator and a filter, each optional")
    brackets, separator = ("", ",") if not texts else (("", texts[0]) if len(texts) == 1 else (texts[0], texts[1]))

    def apply(value: Any) -> Any:
        text = _text(value).strip()
        if brackets:
            if not (text.startswith(brackets[0]) and text.endswith(brackets[-1])):
                return FAILED
            text = text[1:-1] if len(brackets) >= 2 else text[1:]
        items: list[Any] = [item.strip() for item in text.split(separator)] if text.strip() else []
        if inner is not None:
            items = [result for item in items if (result := inner(item)) is not FAILED]
        return items

    return apply


def _scale(factor: Any) -> Callable[[Any], Any]:
    if not isinstance(factor, int | float):
        raise GrokFilterError("scale takes a number, e.g. scale(1000000)")

    def apply(value: Any) -> Any:
        number = to_number(value)
        return FAILED if number is FAILED else number * factor

    return apply


def _strings(call: Call, low: int, high: int) -> list[str]:
    if not low <= len(call.args) <= high or not all(isinstance(arg, str) for arg in call.args):
        counts = f"{low} to {high}" if low != high else str(low)
        raise GrokFilterError(f"invalid arguments for the filter '{call.name}': it takes {counts} quoted strings")
    return [str(arg) for arg in call.args]


def _useragent(call: Call) -> Callable[[Any], Any]:
    decode = False
    for arg in call.args:
        if arg in ("decodeuricomponent:true", "decodeuricomponent:false"):
            decode = arg == "decodeuricomponent:true"
        else:
            raise GrokFilterError("useragent takes `decodeuricomponent:true` or `decodeuricomponent:false`")
    return lambda value: useragent_details(_text(value), decode=decode)


def _url(value: Any) -> Any:
    details = url_details(_text(value))
    return FAILED if details is None else details


def build_filter(call: Call) -> Filter:
    """A filter call as a function of the matched value; GrokFilterError when it does not exist or its arguments
    are wrong."""
    name = call.name
    simple: dict[str, Filter] = {
        "number": to_number,
        "integer": to_integer,
        "boolean": to_boolean,
        "json": parse_json,
        "rubyhash": parse_rubyhash,
        "querystring": lambda value: query_string(_text(value)),
        "decodeuricomponent": lambda value: unquote(_text(value)),
        "lowercase": lambda value: _text(value).lower(),
        "uppercase": lambda value: _text(value).upper(),
        "xml": parse_xml,
        "url": _url,
    }
    if name in simple:
        if call.args:
            raise GrokFilterError(f"invalid arguments for the filter '{name}': it takes none")
        return simple[name]
    if name == "nullIf":
        (null,) = _strings(call, 1, 1)
        return lambda value: None if _text(value) == null else value
    if name == "keyvalue":
        return keyvalue_filter(*_strings(call, 0, 4))
    if name == "csv":
        return csv_filter(*_strings(call, 1, 3))
    if name == "scale":
        if len(call.args) != 1:
            raise GrokFilterError("invalid arguments for the filter 'scale': it takes one number")
        return _scale(call.args[0])
    if name == "array":
        return array_filter(call.args, build_filter)
    if name == "useragent":
        return _useragent(call)
    raise GrokFilterError(
        f"unknown filter '{name}'; Datadog's filters are number, integer, boolean, nullIf, json, rubyhash, "
        "useragent, querystring, decodeuricomponent, lowercase, uppercase, keyvalue, xml, csv, scale, array, url"
    )
