"""Datadog's structuring and enrichment processors: URL and user-agent parsers, string builder, array
processor, decoder, attribute exclusion, span ID remapper, nested pipelines, and the processors whose
outputs cannot be known offline (GeoIP, Reference Tables).

Each compiles once into a plain step `(record) -> None`, like the processors in `processors.py`.
docs/pipelines.md cites Datadog's page for each behaviour and lists where the emulator has to guess.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import functools
import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Final
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from pydantic import TypeAdapter

from logmon.emulator.processors import CompileFilter, Getter, Step, getter
from logmon.logrecord import MISSING, LogRecord, is_mapping, iter_path_values, pop_path, set_path
from logmon.rules import model

CompileProcessor = Callable[[model.Processor, CompileFilter], Step | None]

DEFAULT_PORTS: Final = {"http": 80, "https": 443}
"""The port the URL parser reports when the URL names none (Datadog's example: `https://…` → 443)."""

TEMPLATE_RESULT_LIMIT: Final = 256
"""String builder: "Results of a template cannot exceed 256 characters" (Datadog's processor page)."""

ARRAY_MAP_LIMIT: Final = 50
"""The array map processor: "Processing is limited to the first 50 elements of the source array"."""

ELEMENT_ALIASES: Final = {"$sourceElem": "__sourceElem", "$targetElem": "__targetElem"}
"""The array map's element names, spelled so that arithmetic expressions parse them as attribute names."""

UNEXCLUDABLE: Final = frozenset({"host", "source", "service", "status", "message", "timestamp"})
"""Reserved attributes the exclude attribute processor cannot remove (Datadog's processor page)."""


def compile_enricher(
    processor: model.Processor, compile_filter: CompileFilter, compile_processor: CompileProcessor
) -> Step:
    """The step for one of this module's processors; `compile_processor` compiles a nested pipeline's own."""
    if isinstance(processor, model.SpanIdRemapper):
        return _span_id_remapper(processor)
    if isinstance(processor, model.UrlParser):
        return _url_parser(processor)
    if isinstance(processor, model.UserAgentParser):
        return _user_agent_parser(processor)
    if isinstance(processor, model.StringBuilderProcessor):
        return _string_builder(processor)
    if isinstance(processor, model.ArrayProcessor):
        return _array_processor(processor, compile_filter)
    if isinstance(processor, model.DecoderProcessor):
        return _decoder(processor)
    if isinstance(processor, model.ExcludeAttributeProcessor):
        return _exclude_attribute(processor)
    if isinstance(processor, model.GeoIpParser):
        return _unknown_output(processor.sources, processor.target)
    if isinstance(processor, model.ReferenceTableLookupProcessor):
        return _unknown_output([processor.source], processor.target)
    if isinstance(processor, model.NestedPipeline):
        return _nested_pipeline(processor, compile_filter, compile_processor)
    if isinstance(processor, model.ArrayMapProcessor):
        return _array_map(processor, compile_filter, compile_processor)
    raise TypeError(f"no emulation for {type(processor).__name__}")


def _first_value(record: LogRecord, readers: Sequence[Getter]) -> Any:
    """The first source present with a non-null value, or MISSING."""
    for read in readers:
        value = read(record.attributes)
        if value is not MISSING and value is not None:
            return value
    return MISSING


# ------------------------------------------------------------------------------------------- remappers


def _span_id_remapper(processor: model.SpanIdRemapper) -> Step:
    readers = tuple(getter(source) for source in processor.sources)

    def step(record: LogRecord) -> None:
        value = _first_value(record, readers)
        if value is not MISSING:
            record.span_id = str(value)

    return step


def _exclude_attribute(processor: model.ExcludeAttributeProcessor) -> Step:
    path = processor.attribute_to_exclude.removeprefix("@")

    def step(record: LogRecord) -> None:
        if path not in UNEXCLUDABLE:
            pop_path(record.attributes, path)

    return step


# ----------------------------------------------------------------------------------------------- URLs


def parse_url(text: str, normalize_ending_slashes: bool = False) -> tuple[dict[str, Any], list[str]] | None:
    """A URL's parts under Datadog's names, and the query keys given more than once (their value is not
    documented); None when the text is not a URL at all."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    details: dict[str, Any] = {}
    scheme = parts.scheme.lower()
    if scheme:
        details["scheme"] = scheme
    if parts.hostname:
        details["host"] = parts.hostname
    if port is None:
        port = DEFAULT_PORTS.get(scheme) if parts.hostname else None
    if port is not None:
        details["port"] = port
    path = parts.path
    if normalize_ending_slashes and len(path) > 1:
        path = path.rstrip("/") or "/"
    if path:
        details["path"] = path
    query: dict[str, str] = {}
    repeated: list[str] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in query and key not in repeated:
            repeated.append(key)
        query[key] = value
    for key in repeated:
        del query[key]
    if query:
        details["queryString"] = query
    return (details, repeated) if details else None


def _url_parser(processor: model.UrlParser) -> Step:
    normalize = processor.normalize_ending_slashes

    def parse(text: str) -> tuple[dict[str, Any], list[str]] | None:
        parsed = parse_url(text, normalize)
        if parsed is None:
            return None
        details, repeated = parsed
        return details, [f"queryString.{key}" for key in repeated]

    return _parser_step(processor.sources, processor.target, parse)


ParseText = Callable[[str], tuple[dict[str, Any], list[str]] | None]
"""A parser processor's work on its source text: the details written under the target and the paths below
the target whose value cannot be known; None leaves the log unchanged."""


def _parser_step(sources: Sequence[str], target: str, parse: ParseText) -> Step:
    """A processor that parses the first text source into details under `target` (URL, user agent)."""
    readers = tuple(getter(source) for source in sources)

    def step(record: LogRecord) -> None:
        value = _first_value(record, readers)
        if not isinstance(value, str):
            return
        parsed = parse(value)
        if parsed is None:
            return
        details, unknown = parsed
        set_path(record.attributes, target, details)
        for path in unknown:
            record.mark_unknown(f"{target}.{path}")

    return step


# ------------------------------------------------------------------------------------------ user agents

_MOBILE_OS: Final = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS", "Symbian OS"})
_DESKTOP_OS: Final = frozenset(
    {"Mac OS X", "Windows", "Linux", "Ubuntu", "Chrome OS", "Fedora", "Debian", "FreeBSD", "OpenBSD", "Solaris"}
)


def device_category(os_family: str, device_family: str, text: str) -> str | None:
    """Datadog's device category (its example: `Desktop`) where the user agent leaves no doubt; None when
    Datadog's classification cannot be predicted."""
    if device_family == "Spider":
        return "Bot"
    if device_family == "iPad" or "Tablet" in device_family or (os_family == "Android" and "Mobile" not in text):
        return "Tablet"
    if os_family in _MOBILE_OS:
        return "Mobile"
    if os_family in _DESKTOP_OS:
        return "Desktop"
    return None


def _parts(found: Any, fields: Sequence[str]) -> dict[str, str]:
    """A ua-parser result part as Datadog's object: `family` ("Other" when not recognised) and the set fields."""
    if found is None:
        return {"family": "Other"}
    return {name: value for name in fields if (value := getattr(found, name, None)) is not None}


@functools.lru_cache(maxsize=4096)
def parse_user_agent(text: str) -> tuple[dict[str, Any], bool]:
    """`browser`, `os` and `device` details of a user agent, and whether the device category is known."""
    from ua_parser import parse  # its rule set loads on first use, so lint pays only when a parser is used

    result = parse(text)
    browser = _parts(result.user_agent, ("family", "major", "minor", "patch", "patch_minor"))
    system = _parts(result.os, ("family", "major", "minor", "patch", "patch_minor"))
    device = _parts(result.device, ("family", "brand", "model"))
    category = device_category(system["family"], device["family"], text)
    if category is not None:
        device["category"] = category
    return {"browser": browser, "os": system, "device": device}, category is not None


def _user_agent_parser(processor: model.UserAgentParser) -> Step:
    encoded = processor.is_encoded

    def parse(text: str) -> tuple[dict[str, Any], list[str]]:
        details, category_known = parse_user_agent(unquote_plus(text) if encoded else text)
        copied = {part: dict(fields) for part, fields in details.items()}  # the parse is cached: never share it
        return copied, [] if category_known else ["device.category"]

    return _parser_step(processor.sources, processor.target, parse)


# --------------------------------------------------------------------------------------- string builder

_BLOCK: Final = re.compile(r"%\{([^{}]*)\}")


def template_parts(template: str) -> list[tuple[str, bool]]:
    """The template as (text, is_attribute) pieces: raw text and `%{path}` blocks."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for block in _BLOCK.finditer(template):
        if block.start() > position:
            pieces.append((template[position : block.start()], False))
        pieces.append((block.group(1).strip(), True))
        position = block.end()
    if position < len(template):
        pieces.append((template[position:], False))
    return pieces


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def block_value(record: LogRecord, path: str) -> str | None:
    """A block's text: a value, or an array of values joined by commas (also through arrays of objects);
    None when the attribute is missing or is an object or an array of objects."""
    path = path.removeprefix("@")
    values = list(iter_path_values(record.attributes, path))
    if not values and path in ("message", "status", "service", "host", "source"):
        reserved = record.reserved(path)
        return reserved or None
    if not values or any(value is None or is_mapping(value) or isinstance(value, list) for value in values):
        return None
    return ",".join(_text(value) for value in values)


def _string_builder(processor: model.StringBuilderProcessor) -> Step:
    pieces = template_parts(processor.template)
    target, replace_missing = processor.target, processor.is_replace_missing

    def step(record: LogRecord) -> None:
        built: list[str] = []
        for text, is_attribute in pieces:
            if not is_attribute:
                built.append(text)
                continue
            value = block_value(record, text)
            if value is None:
                if not replace_missing:
                    return
                value = ""
            built.append(value)
        result = "".join(built)
        if len(result) > TEMPLATE_RESULT_LIMIT:
            # Datadog's page says results cannot exceed the limit without saying whether it truncates or skips.
            record.mark_unknown(target)
            return
        set_path(record.attributes, target, result)

    return step


# ----------------------------------------------------------------------------------------------- arrays


def element_record(element: Any) -> LogRecord:
    """An array element as a record, for the array processor's filter: its keys are attributes, and its
    scalar keys are tags too, since Datadog's example writes the condition `name:Referrer` without `@`."""
    if not is_mapping(element):
        return LogRecord(attributes={})
    tags = [
        f"{key}:{_text(value)}".lower()
        for key, value in element.items()
        if isinstance(value, str | int | float | bool) and value is not None
    ]
    return LogRecord(attributes=dict(element), tags=tags)


def _array_processor(processor: model.ArrayProcessor, compile_filter: CompileFilter) -> Step:
    operation = processor.operation
    if isinstance(operation, model.ArraySelect):
        return _array_select(operation, compile_filter)
    if isinstance(operation, model.ArrayLength):
        return _array_length(operation)
    if isinstance(operation, model.ArrayAppend):
        return _array_append(operation)
    return _array_key_value(operation)


def _array_select(operation: model.ArraySelect, compile_filter: CompileFilter) -> Step:
    read, matches, extract = (
        getter(operation.source),
        compile_filter(operation.filter),
        getter(operation.value_to_extract),
    )
    target = operation.target

    def step(record: LogRecord) -> None:
        array = read(record.attributes)
        if not isinstance(array, list):
            return
        for element in array:
            if is_mapping(element) and matches(element_record(element)):
                value = extract(element)
                if value is not MISSING:
                    set_path(record.attributes, target, value)
                return

    return step


def _array_length(operation: model.ArrayLength) -> Step:
    read, target = getter(operation.source), operation.target

    def step(record: LogRecord) -> None:
        array = read(record.attributes)
        if isinstance(array, list):
            set_path(record.attributes, target, len(array))

    return step


def _array_append(operation: model.ArrayAppend) -> Step:
    read_source, read_target = getter(operation.source), getter(operation.target)
    source, target, preserve = operation.source, operation.target, operation.preserve_source

    def step(record: LogRecord) -> None:
        value = read_source(record.attributes)
        if value is MISSING:
            return
        array = read_target(record.attributes)
        if array is MISSING:
            array = []
        elif not isinstance(array, list):
            # Datadog's page covers an absent target (created) but not a scalar one.
            record.mark_unknown(target)
            return
        if not preserve:
            pop_path(record.attributes, source)
        set_path(record.attributes, target, [*array, value])

    return step


def _array_key_value(operation: model.ArrayKeyValue) -> Step:
    read = getter(operation.source)
    key_of, value_of = getter(operation.key_to_extract), getter(operation.value_to_extract)
    target, override = operation.target, operation.override_on_conflict

    def step(record: LogRecord) -> None:
        array = read(record.attributes)
        if not isinstance(array, list):
            return
        for element in array:
            if not is_mapping(element):
                continue
            key, value = key_of(element), value_of(element)
            if not isinstance(key, str) or not key or value is MISSING:
                continue
            path = f"{target}.{key}" if target else key
            if not override and getter(path)(record.attributes) is not MISSING:
                continue
            set_path(record.attributes, path, value)

    return step


# ---------------------------------------------------------------------------------------------- decoder


def decode_bytes(text: str, encoding: str) -> bytes | None:
    """The bytes behind a base64 or base16 text, trimming or padding a truncated one as Datadog does; None
    when the text is not of that encoding."""
    text = "".join(text.split())
    try:
        if encoding == "base64":
            remainder = len(text) % 4
            if remainder == 1:
                text = text[:-1]
            elif remainder:
                text += "=" * (4 - remainder)
            return base64.b64decode(text, validate=True)
        if len(text) % 2:
            text = text[:-1]
        return bytes.fromhex(text)
    except (binascii.Error, ValueError):
        return None


def decode(text: str, encoding: str, representation: str) -> str | int | None:
    """A decoded value, or None when decoding fails (Datadog then leaves the log unchanged)."""
    if representation == "integer":
        if encoding != "base16":
            raise ValueError("integer output is only documented for base16")
        try:
            return int("".join(text.split()), 16)
        except ValueError:
            return None
    decoded = decode_bytes(text, encoding)
    if decoded is None:
        return None
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _decoder(processor: model.DecoderProcessor) -> Step:
    read, target = getter(processor.source), processor.target
    encoding, representation = processor.binary_to_text_encoding, processor.input_representation
    undocumented = representation == "integer" and encoding != "base16"

    def step(record: LogRecord) -> None:
        value = read(record.attributes)
        if not isinstance(value, str):
            return
        if undocumented:
            record.mark_unknown(target)
            return
        decoded = decode(value, encoding, representation)
        if decoded is not None:
            set_path(record.attributes, target, decoded)

    return step


# ------------------------------------------------------------------------------------- unknown offline


def _unknown_output(sources: Sequence[str], target: str) -> Step:
    """A processor backed by data that lives in Datadog: when it has input, its target is unknown."""
    readers = tuple(getter(source) for source in sources)

    def step(record: LogRecord) -> None:
        if _first_value(record, readers) is not MISSING:
            record.mark_unknown(target)

    return step


# ------------------------------------------------------------------------------------- nested pipelines


def _nested_pipeline(
    processor: model.NestedPipeline, compile_filter: CompileFilter, compile_processor: CompileProcessor
) -> Step:
    matches = compile_filter(processor.filter)
    steps = [compiled for inner in processor.processors if (compiled := compile_processor(inner, compile_filter))]

    def step(record: LogRecord) -> None:
        if matches(record):
            for inner in steps:
                inner(record)

    return step


# ---------------------------------------------------------------------------------------------- array map

_ARRAY_MAP_STEP: TypeAdapter[model.ArrayMapStep] = TypeAdapter(model.ArrayMapStep)


def _element_step(processor: model.ArrayMapStep, compile_filter: CompileFilter, compile: CompileProcessor) -> Step:
    """A sub-processor compiled over a scratch log holding the elements under their aliases."""
    text = json.dumps(processor.model_dump(mode="json"))
    for name, alias in ELEMENT_ALIASES.items():
        text = text.replace(name, alias)
    step = compile(_ARRAY_MAP_STEP.validate_python(json.loads(text)), compile_filter)
    assert step is not None
    return step


def _array_map(
    processor: model.ArrayMapProcessor, compile_filter: CompileFilter, compile_processor: CompileProcessor
) -> Step:
    steps = [_element_step(inner, compile_filter, compile_processor) for inner in processor.processors]
    read_source, read_target = getter(processor.source), getter(processor.target)
    source, target, preserve = processor.source, processor.target, processor.preserve_source
    in_place = source == target
    source_alias, target_alias = ELEMENT_ALIASES["$sourceElem"], ELEMENT_ALIASES["$targetElem"]

    def step(record: LogRecord) -> None:
        array = read_source(record.attributes)
        if not isinstance(array, list):
            return
        existing = array if in_place else read_target(record.attributes)
        existing = existing if isinstance(existing, list) else []
        built: list[Any] = []
        undecided = False
        for position, element in enumerate(array[:ARRAY_MAP_LIMIT]):
            # Each element sees the log as it was, whatever a sub-processor did for the element before it.
            attributes = copy.deepcopy(record.attributes)
            attributes[source_alias] = copy.deepcopy(element)
            if position < len(existing):
                attributes[target_alias] = copy.deepcopy(existing[position])
            scratch = dataclasses.replace(record, attributes=attributes, tags=list(record.tags), unknown=frozenset())
            for inner in steps:
                inner(scratch)
            undecided = undecided or bool(scratch.unknown)
            built.append(scratch.attributes.get(target_alias, {}))
        if not preserve and not in_place:
            pop_path(record.attributes, source)
        set_path(record.attributes, target, built + existing[len(built) :])
        if undecided:
            record.mark_unknown(target)

    return step
