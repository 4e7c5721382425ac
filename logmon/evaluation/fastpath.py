"""Replay's fast path: decide once per distinct combination of the values the rules read, not once per log.

Most logs of a service repeat a handful of values in the fields that the pipelines, indexes, metrics and
monitors look at (event type, level, status code…), and differ only in fields no rule decides on (the
timestamp, a request ID, a duration). `FieldUse` works out from the rule set which raw JSON keys can change
a decision, which are only read per log (dates, measures, the sampling attribute) and whether every stage
can be enumerated at all. `FastPath` then keys each log on its top-level key names plus the values of the
deciding keys: the first log of a key goes the plain way through the emulator and leaves a `Plan` (its
processed record, index decision and matching metrics and monitors); later logs of the key copy their
per-log values into that record and are counted with the plan's decisions.

Whatever the analysis cannot prove goes the plain way: a rule set with a processor or search it cannot
enumerate gets no fast path at all, a log whose shape could change what the analysis assumed (a flat
dotted key over a watched path, a line long enough to nest past Python's recursion limit) is planned as
plain, and when keys stop repeating (high-cardinality values in a deciding field) the cache steps aside
for a while. Plans live in a size-capped cache, so memory stays flat however many distinct keys there are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Final

import orjson

from logmon.emulator.engine import UNIFIED_SERVICE_TAGS, IndexDecision
from logmon.emulator.preprocess import (
    DATE_KEYS,
    HOST_KEYS,
    INTAKE_SOURCE_KEY,
    INTAKE_TAGS_KEY,
    MESSAGE_KEYS,
    STATUS_KEYS,
    TRACE_ID_KEYS,
    fold_dotted_keys,
    parse_date,
)
from logmon.emulator.processors import UnsupportedExpression, parse_expression
from logmon.evaluation.metrics import MetricAggregator
from logmon.evaluation.monitors import MonitorBuckets
from logmon.evaluation.stream import Accumulator, Ingested
from logmon.logrecord import RESERVED_ATTRIBUTES, LogRecord
from logmon.queries import monitor_query
from logmon.rules import model
from logmon.rules.loader import RuleSet
from logmon.search import Exists, FieldKind, Matcher, SearchSyntaxError, compile_query, iter_field_terms, parse

TAGS: Final = "#tags"
"""The log's tags as one item: tag queries, tag group-bys and tag remappers."""
TIMESTAMP: Final = "#timestamp"
"""The log's date, which date remappers write."""
RAW_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "status": STATUS_KEYS,
    "service": ("service",),
    "host": HOST_KEYS,
    "message": MESSAGE_KEYS,
    "trace_id": TRACE_ID_KEYS,
    "source": (INTAKE_SOURCE_KEY,),
    TAGS: (*UNIFIED_SERVICE_TAGS, INTAKE_TAGS_KEY),
}
"""The raw JSON keys preprocessing reads for each reserved attribute (the intake's `ddsource` and `ddtags`
included), and the agent for tags."""

CACHE_SIZE: Final = 2048
"""Plans kept; the oldest goes first. Each holds one processed log, so this bounds the memory."""
LONGEST_LINE: Final = 4096
"""Longer lines go the plain way: only they can nest deep enough to hit Python's recursion limit, which
the plain path reports as a malformed line."""
WINDOW: Final = 1024
"""Lookups per hit-rate check."""
BYPASS: Final = 16384
"""Lines sent the plain way, without a lookup, after a window in which most lookups missed."""

Item = str
"""`@path` for an attribute, a reserved attribute's name, TAGS or TIMESTAMP."""


class NotEnumerable(Exception):
    """The rule set uses something whose inputs the fast path cannot list; replay takes the plain path."""


def _overlaps(first: Item, second: Item) -> bool:
    if first == second:
        return True
    if first.startswith("@") and second.startswith("@"):
        return first.startswith(second + ".") or second.startswith(first + ".")
    return False


def _facet_item(facet: str) -> Item:
    if facet.startswith("@"):
        return facet
    return facet if facet in RESERVED_ATTRIBUTES else TAGS


def _search_reads(text: str) -> tuple[set[Item], set[str]]:
    """The items a search reads the values of, and the attribute paths it only tests the presence of."""
    try:
        query = parse(text)
    except SearchSyntaxError as error:
        raise NotEnumerable(f"search `{text}` does not parse") from error
    values: set[Item] = set()
    presence: set[str] = set()
    for term in iter_field_terms(query):
        kind = term.field.kind
        if kind is FieldKind.ATTRIBUTE:
            if isinstance(term.node, Exists):
                presence.add(term.field.path)
            else:
                values.add("@" + term.field.path)
        elif kind is FieldKind.RESERVED:
            values.add(term.field.path)
        elif kind is FieldKind.TAG:
            values.add(TAGS)
        elif kind is FieldKind.FREE_TEXT:
            values.add("message")
        else:
            raise NotEnumerable(f"search `{text}` reads every attribute")
    return values, presence


def _all_reads(text: str) -> set[Item]:
    values, presence = _search_reads(text)
    return values | {"@" + path for path in presence}


def _effects(processor: model.Processor) -> tuple[set[Item], set[Item]]:
    """What one processor reads and what it writes (or removes)."""
    if isinstance(processor, model.AttributeRemapper):
        sources = {TAGS} if processor.source_type == "tag" else {"@" + s for s in processor.sources}
        target = TAGS if processor.target_type == "tag" else "@" + processor.target
        return sources | {target}, {target} | (set() if processor.preserve_source else sources)
    if isinstance(processor, model.StatusRemapper):
        return {"@" + s for s in processor.sources}, {"status"}
    if isinstance(processor, model.ServiceRemapper):
        return {"@" + s for s in processor.sources}, {"service"}
    if isinstance(processor, model.MessageRemapper):
        return {"@" + s for s in processor.sources}, {"message"}
    if isinstance(processor, model.TraceIdRemapper):
        return {"@" + s for s in processor.sources}, {"trace_id"}
    if isinstance(processor, model.DateRemapper):
        return {"@" + s for s in processor.sources}, {TIMESTAMP}
    if isinstance(processor, model.CategoryProcessor):
        reads: set[Item] = set()
        for category in processor.categories:
            reads |= _all_reads(category.filter)
        return reads, {"@" + processor.target}
    if isinstance(processor, model.LookupProcessor):
        return {"@" + processor.source}, {"@" + processor.target}
    if isinstance(processor, model.ArithmeticProcessor):
        try:
            _, names = parse_expression(processor.expression)
        except UnsupportedExpression as error:
            raise NotEnumerable(str(error)) from error
        return {"@" + name for name in names}, {"@" + processor.target}
    raise NotEnumerable(f"no fast-path analysis for {type(processor).__name__}")


def _scanned(scanner: model.SensitiveDataScanner | None, item: Item) -> bool:
    """Whether the Sensitive Data Scanner may rewrite `item`: the message, or an attribute at, under or above
    a path some rule scans (reserved attributes, tags and the date are never rewritten)."""
    if scanner is None:
        return False
    for slug in scanner.rules:
        scope = scanner.scope(slug)
        if item == "message":
            if scope.covers("message"):
                return True
            continue
        if not item.startswith("@"):
            continue
        path = item[1:]
        if any(path == excluded or path.startswith(excluded + ".") for excluded in scope.excluded):
            continue
        if not scope.namespaces or any(_overlaps(item, "@" + namespace) for namespace in scope.namespaces):
            return True
    return False


@dataclass(frozen=True)
class FieldUse:
    """Which raw JSON keys a rule set decides on, and which it only reads per log."""

    deciding: tuple[str, ...]
    """Raw keys (flat dotted spellings included) whose values can change any decision."""
    per_log: tuple[str, ...]
    """Top-level keys read per log as they are (measures, the sampling attribute); no processor writes them."""
    watched: frozenset[str]
    """Every attribute path the plain path reads from a raw log: a flat dotted key over one of them is folded
    by preprocessing in ways the key does not capture, so such a log is planned as plain."""
    opaque: tuple[str, ...] = ()
    """Filters of the pipelines the analysis cannot enumerate (a grok parser, a nested pipeline...): a key
    whose logs such a pipeline processes goes the plain way. What the filters read is decided on and
    written by no stage, so the processed record answers them as the log did when the pipeline ran."""
    scanned: frozenset[str] = frozenset()
    """Per-log keys the Sensitive Data Scanner may rewrite: a log whose value there is text goes plain."""

    @classmethod
    def of(cls, rules: RuleSet) -> FieldUse:
        """The analysis; NotEnumerable when some stage's inputs cannot be listed."""
        processors: list[model.Processor] = []
        effects: list[tuple[set[Item], set[Item]]] = []
        opaque: list[str] = []
        for pipeline in rules.pipelines.values():
            if not pipeline.enabled:
                continue
            enabled = [processor for processor in pipeline.processors if processor.enabled]
            try:
                found = [_effects(processor) for processor in enabled]
            except NotEnumerable:
                opaque.append(pipeline.filter)
                continue
            processors.extend(enabled)
            effects.extend(found)
        scanner = rules.sensitive_data
        written = {item for _, writes in effects for item in writes}
        for processor in processors:
            if isinstance(processor, model.DateRemapper) and processor.sources != ["timestamp"]:
                # Preprocessing already reads `timestamp` first, so only such a remapper leaves the date
                # to be read per log without knowing which pipelines ran.
                raise NotEnumerable("a date remapper reads something other than `timestamp`")
        if any(_overlaps("@" + key, item) for key in DATE_KEYS for item in written):
            raise NotEnumerable("a processor writes an attribute preprocessing reads the date from")
        scanner_tags = scanner is not None and any(rule.tags for rule in scanner.rules.values())
        for text in opaque:
            for item in _all_reads(text):
                if any(_overlaps(item, w) for w in written) or _scanned(scanner, item):
                    raise NotEnumerable(f"a stage changes what the pipeline filter `{text}` reads")
                if item == TAGS and scanner_tags:
                    raise NotEnumerable(f"the scanner adds tags the pipeline filter `{text}` reads")

        values, presence, outputs = _rule_reads(rules)
        for path in presence:
            # Presence of an untouched top-level key is in the shape of the log; anything else is decided on.
            if "." in path or any(_overlaps("@" + path, item) for item in written):
                values.add("@" + path)
        per_log: set[str] = set()
        for item in outputs:
            name = item[1:]
            if (
                item.startswith("@")
                and "." not in name
                and name != "message"
                and not any(_overlaps(item, w) for w in written)
            ):
                per_log.add(name)
            else:
                values.add(item)
        relevant = _closure(values, effects)
        if TAGS in relevant and scanner_tags:
            # The scanner tags a log by what it found in any scanned value: every one of them would decide.
            raise NotEnumerable("a rule reads tags and the Sensitive Data Scanner adds tags")
        deciding: set[str] = set()
        for item in relevant:
            if item.startswith("@"):
                deciding.update(_spellings(item[1:]))
            elif item in RAW_KEYS:
                for key in RAW_KEYS[item]:
                    deciding.update(_spellings(key))
            else:
                raise NotEnumerable(f"the date decides something: {item}")
        watched = {item[1:] for item in relevant if item.startswith("@")}
        watched |= presence | per_log | set(DATE_KEYS)
        watched |= {key for item in relevant if item in RAW_KEYS for key in RAW_KEYS[item]}
        scanned = frozenset(name for name in per_log if _scanned(scanner, "@" + name))
        return cls(tuple(sorted(deciding)), tuple(sorted(per_log)), frozenset(watched), tuple(opaque), scanned)


def _rule_reads(rules: RuleSet) -> tuple[set[Item], set[str], set[Item]]:
    """What the filters, searches and group-bys read the values of, the attribute paths they only test the
    presence of, and the measures and sampling attributes read per log."""
    values: set[Item] = set()
    presence: set[str] = set()
    outputs: set[Item] = set()

    def search(text: str) -> None:
        found_values, found_presence = _search_reads(text)
        values.update(found_values)
        presence.update(found_presence)

    for pipeline in rules.pipelines.values():
        if pipeline.enabled:
            search(pipeline.filter)
    if rules.sensitive_data is not None:
        # The scanner runs after the pipelines, on logs its group's filter matches; what it rewrites in a
        # deciding value depends only on that value, which is keyed.
        search(rules.sensitive_data.filter)
    for index in rules.indexes.values():
        search(index.filter)
        for exclusion in index.exclusion_filters:
            if exclusion.enabled:
                search(exclusion.filter)
                if exclusion.sample_attribute:
                    outputs.add(_facet_item(exclusion.sample_attribute))
    for metric in rules.metrics.values():
        search(metric.filter)
        values.update(_facet_item(group.path) for group in metric.group_bys())
        if metric.path:
            outputs.add(_facet_item(metric.path))
    for monitor in rules.monitors.values():
        try:
            query = monitor_query(monitor)
        except (ValueError, SearchSyntaxError) as error:
            raise NotEnumerable(f"monitor query: {error}") from error
        search(query.search)
        values.update(_facet_item(facet) for facet in query.group_by)
        if query.measure:
            outputs.add(_facet_item(query.measure))
    return values, presence, outputs


def _closure(values: set[Item], effects: list[tuple[set[Item], set[Item]]]) -> set[Item]:
    """Grow the deciding items with the inputs of every processor that writes one of them, to a fixpoint."""
    relevant = set(values)
    changed = True
    while changed:
        changed = False
        for reads, writes in effects:
            if any(_overlaps(w, r) for w in writes for r in relevant) and not reads <= relevant:
                relevant |= reads
                changed = True
    relevant.discard(TIMESTAMP)
    return relevant


def _spellings(path: str) -> list[str]:
    """`a.b.c` as raw JSON may spell it: `a`, `a.b`, `a.b.c` (flat dotted keys fold into nested objects)."""
    parts = path.split(".")
    return [".".join(parts[: n + 1]) for n in range(len(parts))]


@dataclass(slots=True)
class Plan:
    """What the first log of a key decided."""

    record: LogRecord
    """The first log's processed record; later logs copy their per-log values and date into it."""
    decision: IndexDecision
    metrics: list[tuple[MetricAggregator, tuple[str, ...]]]
    """The log-based metrics whose filter matched, each with the group the record counts under (group-bys
    read deciding values only)."""
    monitors: list[MonitorBuckets]
    """The monitors whose search and indexes matched (none when the log cannot be indexed)."""
    dates: tuple[str, ...]
    """The date keys present, in the order preprocessing tries them."""
    copies: tuple[str, ...]
    """Per-log keys present in this shape."""
    scanned: tuple[str, ...]
    """The copies the scanner may rewrite: a log with text there goes the plain way."""
    sampled: bool
    """Whether `kept` depends on the log (any exclusion sampling at all)."""
    kept: bool
    """The sampling outcome when it does not."""
    types: tuple[tuple[int, type], ...]
    """Positions of the non-string deciding values and their types: `1`, `1.0` and `true` are equal keys
    in Python but not to a search, so a log whose values have other types goes the plain way."""
    exact: bytes | None
    """The deciding values as JSON when even equal values of one type differ (`0.0` and `-0.0`)."""
    plain: bool = False
    """A pipeline the analysis cannot enumerate processes this key's logs: they all go the plain way."""


@dataclass(slots=True)
class _Shape:
    """The logs with one sequence of top-level keys: which deciding keys they have, and their plans."""

    keys: tuple[str, ...]
    values: Callable[[dict[str, Any]], tuple[Any, ...]]
    plans: dict[Any, Plan]
    plain: bool
    """The shape alone sends every log the plain way."""


def _getter(keys: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    if not keys:
        return lambda raw: ()
    if len(keys) == 1:
        only = keys[0]
        return lambda raw: (raw[only],)
    return itemgetter(*keys)


_NUMBERS: Final = (int, float, bool, type(None))
"""Values the scanner never rewrites."""


class FastPath:
    """The per-key cache in front of `Intake` and `Accumulator`. `feed` counts a log whose key has a plan
    and answers its `Ingested` (for the cost and the charts), what to `learn` after the plain path when the
    key is new, or None when the plain path should run and nothing be learnt."""

    def __init__(self, use: FieldUse, accumulator: Accumulator) -> None:
        self.use = use
        self.accumulator = accumulator
        self._opaque: list[Matcher] = [compile_query(parse(text)) for text in use.opaque]
        self._shapes: dict[tuple[str, ...], _Shape] = {}
        self.planned = 0
        self._lookups = 0
        self._misses = 0
        self._bypass = 0

    @classmethod
    def for_rules(cls, rules: RuleSet, accumulator: Accumulator) -> FastPath | None:
        try:
            return cls(FieldUse.of(rules), accumulator)
        except NotEnumerable:
            return None

    def feed(self, raw: dict[str, Any], line: bytes) -> Ingested | tuple[_Shape, Any] | None:
        if self._bypass:
            self._bypass -= 1
            return None
        if len(line) > LONGEST_LINE:
            return None
        shape = self._shapes.get(tuple(raw))
        if shape is None:
            shape = self._shape(tuple(raw))
        if shape.plain:
            return None
        values: Any = shape.values(raw)
        try:
            plan = shape.plans.get(values)
        except TypeError:  # an object or array among the values: key on their JSON
            try:
                values = orjson.dumps(values)
            except TypeError:  # an integer beyond 64 bits
                return None
            plan = shape.plans.get(values)
        self._lookups += 1
        if plan is None:
            self._missed()
            return shape, values
        if plan.plain:
            return None
        for position, kind in plan.types:
            if type(values[position]) is not kind:
                return None
        if plan.exact is not None and orjson.dumps(values) != plan.exact:
            return None
        for name in plan.scanned:
            if type(raw[name]) not in _NUMBERS:
                return None
        timestamp: float | None = None
        for date_key in plan.dates:
            value = raw[date_key]
            if value is not None:
                timestamp = parse_date(value)
                break
        record = plan.record
        record.timestamp = timestamp
        for name in plan.copies:
            value = raw[name]
            if type(value) is dict:
                fold_dotted_keys(value)
            record.attributes[name] = value
        decision = plan.decision
        kept = decision.kept(record, line) if plan.sampled else plan.kept
        ingested = Ingested(record, decision, kept)
        self.accumulator.count(ingested, (), plan.monitors)
        for aggregator, group in plan.metrics:
            aggregator.add_to(group, record)
        return ingested

    def _missed(self) -> None:
        """Step aside for a while when most of the last lookups missed: keys are not repeating."""
        self._misses += 1
        if self._lookups >= WINDOW:
            if self._misses * 2 > self._lookups:
                self._bypass = BYPASS
            self._lookups = self._misses = 0

    def _shape(self, keys: tuple[str, ...]) -> _Shape:
        if len(self._shapes) >= CACHE_SIZE:
            self._forget()
        deciding = tuple(key for key in self.use.deciding if key in keys)
        plain = "syslog" in keys  # the date may come from a nested `syslog.timestamp`, which plans do not read
        for key in keys:
            if "." in key and key not in deciding and any(_overlaps("@" + key, "@" + w) for w in self.use.watched):
                plain = True  # preprocessing folds it over a path some stage reads
        shape = _Shape(keys, _getter(deciding), {}, plain)
        self._shapes[keys] = shape
        return shape

    def _forget(self) -> None:
        """Drop every plan: a size cap keeps memory flat when keys stop repeating."""
        self._shapes.clear()
        self.planned = 0

    def learn(self, learning: tuple[_Shape, Any], ingested: Ingested) -> None:
        """Remember what the plain path decided for the first log of a key."""
        shape, values = learning
        if self.planned >= CACHE_SIZE:
            self._forget()
            return
        self.planned += 1
        shape.plans[values] = self._plan(shape, values, ingested)

    def _plan(self, shape: _Shape, values: Any, ingested: Ingested) -> Plan:
        present = set(shape.keys)
        record, decision = ingested.record, ingested.decision
        types: tuple[tuple[int, type], ...] = ()
        exact: bytes | None = None
        if type(values) is tuple:
            types = tuple((n, type(v)) for n, v in enumerate(values) if type(v) is not str and v is not None)
            if any(type(v) is float and v == 0 for v in values):
                exact = orjson.dumps(values)
        accumulator = self.accumulator
        copies = tuple(name for name in self.use.per_log if name in present)
        return Plan(
            record=record,
            decision=decision,
            metrics=[(metric, metric.group_of(record)) for metric in accumulator.matching_metrics(record)],
            monitors=accumulator.matching_monitors(record, decision.index) if decision.may_be_indexed else [],
            dates=tuple(key for key in DATE_KEYS if key in present),
            copies=copies,
            scanned=tuple(name for name in copies if name in self.use.scanned),
            # With a sample attribute, even a rate of 1 keeps the logs whose attribute is null.
            sampled=decision.index is not None and decision.sample_rate > 0.0,
            kept=ingested.indexed,
            types=types,
            exact=exact,
            plain=any(matches(record) for matches in self._opaque),
        )
