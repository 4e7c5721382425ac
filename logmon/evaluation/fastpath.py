"""Replay's fast path: decide once per distinct combination of the values the rules read, not once per log.

Most logs of a service repeat a handful of values in the fields that the pipelines, indexes, metrics and
monitors look at (event type, level, status code…), and differ only in fields no rule decides on (the
timestamp, a request ID, a duration). `FieldUse` works out from the rule set which raw JSON keys can change
a decision, which are only read per log (dates, measures, the sampling attribute) and whether every stage
can be enumerated at all. `FastPath` then keys each log on its top-level key names plus the values of the
deciding keys: the first log of a key goes the plain way through the emulator and leaves a `Plan` (its
processed record, index decision and matching metrics and monitors). A later log of the key only adds to
its plan's counts (per minute, kept or dropped, its bytes and its measured values), and `flush` adds those
counts to the same tally, metrics, monitor buckets and cost counters the plain path fills: counting is
addition, so the report is the same.

Whatever the analysis cannot prove goes the plain way: a rule set with a processor or search it cannot
enumerate gets no fast path at all, a log whose shape could change what the analysis assumed (a flat
dotted key over a watched path, a line long enough to nest past Python's recursion limit) is planned as
plain, and when keys stop repeating (high-cardinality values in a deciding field) the cache steps aside
for a while. Plans live in a size-capped cache, so memory stays flat however many distinct keys there are.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Final, Protocol

import orjson
import xxhash

from logmon.emulator.engine import UNIFIED_SERVICE_TAGS, IndexDecision
from logmon.emulator.preprocess import (
    DATE_KEYS,
    HOST_KEYS,
    INTAKE_SOURCE_KEY,
    INTAKE_TAGS_KEY,
    LATEST_DATE,
    MESSAGE_KEYS,
    STATUS_KEYS,
    TRACE_ID_KEYS,
    fold_dotted_keys,
    parse_date,
)
from logmon.emulator.processors import UnsupportedExpression, parse_expression
from logmon.evaluation.cost import CostAccumulator
from logmon.evaluation.hours import HourlyIndexes
from logmon.evaluation.metrics import MetricAggregator
from logmon.evaluation.monitors import GroupKey, MonitorBuckets
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
    measures: frozenset[str] = frozenset()
    """Per-log keys a measure reads (the rest of `per_log` are sampling attributes)."""
    read_as_text: frozenset[str] = frozenset()
    """Per-log keys whose text counts (a sampling attribute, a cardinality's measure): where the scanner may
    rewrite them, a log with text there goes the plain way. Other measures read numbers only, which the
    scanner never rewrites."""

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

        values, presence, outputs, measured, as_text = _rule_reads(rules)
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
        measures = frozenset(name for name in per_log if "@" + name in measured)
        read_as_text = frozenset(name for name in per_log if "@" + name in as_text)
        return cls(
            tuple(sorted(deciding)),
            tuple(sorted(per_log)),
            frozenset(watched),
            tuple(opaque),
            scanned,
            measures,
            read_as_text,
        )


def _rule_reads(rules: RuleSet) -> tuple[set[Item], set[str], set[Item], set[Item], set[Item]]:
    """What the filters, searches and group-bys read the values of, the attribute paths they only test the
    presence of, the measures and sampling attributes read per log, which of those are measures, and which
    are read as text (sampling attributes, cardinality measures)."""
    values: set[Item] = set()
    presence: set[str] = set()
    outputs: set[Item] = set()
    measures: set[Item] = set()
    text: set[Item] = set()

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
                    text.add(_facet_item(exclusion.sample_attribute))
    for metric in rules.metrics.values():
        search(metric.filter)
        values.update(_facet_item(group.path) for group in metric.group_bys())
        if metric.path:
            measures.add(_facet_item(metric.path))
    for monitor in rules.monitors.values():
        try:
            query = monitor_query(monitor)
        except (ValueError, SearchSyntaxError) as error:
            raise NotEnumerable(f"monitor query: {error}") from error
        search(query.search)
        values.update(_facet_item(facet) for facet in query.group_by)
        if query.measure:
            measures.add(_facet_item(query.measure))
            if query.rollup == "cardinality":
                text.add(_facet_item(query.measure))
    return values, presence, outputs | measures, measures, text


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


CONSTANT, BY_LINE, BY_VALUE = 0, 1, 2
"""How a plan's logs are sampled: all alike (`Plan.kept`), by the hash of the line, or by the hash of the
sample attribute's value (a per-log key)."""

_COUNTABLE: Final[frozenset[type]] = frozenset({str, int, float, type(None)})
"""Measured values whose logs a flush counts together when equal. `True` equals `1` in Python but is no
number to a measure, and objects and arrays are not hashable: rows holding them are counted one by one."""
_NUMBERS: Final[frozenset[type]] = frozenset({int, float, bool, type(None)})
"""Values the scanner never rewrites."""

_DATE_TAIL: Final = re.compile(r":[0-5][0-9]\.[0-9]{6}Z").fullmatch
"""Seconds, microseconds and `Z` after `YYYY-MM-DDTHH:MM`, as the logger writes them: with such a tail, the
minute of a date is its first 16 characters'."""
_DATE_HEAD: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]").fullmatch
"""A first 16 characters whose minute does not depend on the tail (hour 24 would, on Pythons that read it)."""
_LAST_MINUTE: Final = math.floor(LATEST_DATE / 60)
"""The last minute whose dates are only partly valid: it is not cached."""
_UNSEEN: Final = object()
MINUTES_CACHED: Final = 65536
"""Minutes (about 45 days) the date cache holds before it starts over."""

FLUSH_EVERY: Final = 16384
"""Lines counted on the fast path between flushes: what a plan holds until then stays small."""

Learning = tuple["_Shape", Any]
"""What `FastPath.learn` needs after the plain path has processed the first log of a key."""


@dataclass(slots=True, eq=False)
class Plan:
    """What the first log of a key decided, and the logs of the key counted since the last flush."""

    record: LogRecord
    """The first log's processed record; at a flush, counted logs' measured values are copied into it."""
    decision: IndexDecision
    count_metrics: list[tuple[MetricAggregator, tuple[str, ...]]]
    """The matching log-based count metrics, each with the group the logs count under (group-bys read
    deciding values only)."""
    measure_metrics: list[tuple[MetricAggregator, tuple[str, ...]]]
    """The matching distribution metrics, with their groups."""
    count_monitors: list[tuple[MonitorBuckets, list[GroupKey]]]
    """The matching count monitors with the groups the logs count in (none when the log cannot be indexed)."""
    measure_monitors: list[MonitorBuckets]
    """The matching monitors of a measure (cardinality, sum, percentiles...)."""
    undecidable: list[str]
    """Monitors whose match the emulator cannot decide for these logs (`Accumulator.undecidable_monitors`)."""
    dates: tuple[str, ...]
    """The date keys present, in the order preprocessing tries them."""
    date_key: str | None
    """The only date key present (then `dates` is not read); None when there are none or several."""
    type_key: str | None
    """A deciding key whose value is not a string, when there is one: `1`, `1.0` and `true` are equal keys in
    Python but not to a search, so a log whose value there has another type than `type_of` goes plain."""
    type_of: type
    typed: Callable[[dict[str, Any]], tuple[Any, ...]] | None
    """When there are several such keys, their values; `types` are the types they must have."""
    types: tuple[type, ...]
    checks: tuple[str, ...]
    """Per-log keys read as text that the scanner may rewrite: a log with anything but a number there goes
    the plain way."""
    measured_keys: tuple[str, ...]
    """Per-log keys a measure reads: logs are counted per distinct combination of their values."""
    measured: Callable[[dict[str, Any]], Any] | None
    """Their values in a raw log (a tuple when several); None when no measure reads a per-log key."""
    sampling: int
    """CONSTANT, BY_LINE or BY_VALUE."""
    sample_key: str
    """The per-log key whose value BY_VALUE hashes."""
    kept_from: int
    """`IndexDecision.kept_from`: the smallest hash that keeps a log."""
    kept: bool
    """The sampling outcome when CONSTANT."""
    exact: bytes | None
    """The deciding values as JSON when even equal values of one type differ (`0.0` and `-0.0`)."""
    plain: bool = False
    """A pipeline the analysis cannot enumerate processes this key's logs: they all go the plain way."""
    kept_minutes: dict[int | None, int] = field(default_factory=dict)
    """Logs counted and kept by their index, per minute (None: before any dated log)."""
    dropped: int = 0
    """Logs counted and dropped by exclusion sampling."""
    size: int = 0
    """Bytes of the logs counted."""
    rows: list[tuple[int | None, bool, Any]] = field(default_factory=list)
    """(minute, kept, measured values) of each log counted, when a measure reads a per-log key."""

    @property
    def pending(self) -> bool:
        return bool(self.kept_minutes or self.dropped)

    def unscanned(self, raw: dict[str, Any]) -> bool:
        """No value the scanner may rewrite is text (`checks`)."""
        return all(type(raw[name]) in _NUMBERS for name in self.checks)


@dataclass(slots=True)
class _Shape:
    """The logs with one sequence of top-level keys: which deciding keys they have, and their plans."""

    keys: tuple[str, ...]
    deciding: tuple[str, ...]
    """The deciding keys present, in the order `values` reads them."""
    values: Callable[[dict[str, Any]], tuple[Any, ...]]
    plans: dict[Any, Plan]
    fast: bool
    """Logger output whose keys allow a fast path (an archived or exported log goes the plain way, and so
    does a shape whose date or folding the plans cannot follow)."""


def _getter(keys: tuple[str, ...]) -> Callable[[dict[str, Any]], Any]:
    if not keys:
        return lambda raw: ()
    if len(keys) == 1:
        only = keys[0]
        return lambda raw: (raw[only],)
    return itemgetter(*keys)


def _may_be_processed(keys: tuple[str, ...]) -> bool:
    """Keys of a log that may come from Datadog (exported by the API, or archived), which replay reads as
    already processed: such logs take the plain path, which tells them apart by their values."""
    present = set(keys)
    return {"type", "attributes"} <= present or {"_id", "date", "attributes"} <= present


class FastPath:
    """The per-key cache in front of `Intake` and `Accumulator`.

    `feed_lines` counts each log whose key has a plan into that plan and hands every other line to the plain
    path; `flush` adds what the plans counted to the tally, the metrics, the monitors and the cost. Per log
    it does only what differs between the logs of a key: the date's minute, the sampling hash, the size and
    the measured values, so the same report comes out as from the plain path (the tests prove it).
    """

    def __init__(self, use: FieldUse, accumulator: Accumulator, cost: CostAccumulator) -> None:
        self.use = use
        self.accumulator = accumulator
        self.tally = accumulator.tally
        self.cost = cost
        self._opaque: list[Matcher] = [compile_query(parse(text)) for text in use.opaque]
        self._shapes: dict[tuple[str, ...], _Shape] = {}
        self._minutes: dict[str, int | None] = {}
        """`YYYY-MM-DDTHH:MM` → its epoch minute (None: not a date), for dates with the logger's tail."""
        self.planned = 0
        self._hits = 0
        """Logs counted on the fast path."""
        self._window_hits = 0
        """`_hits` when the current hit-rate window started."""
        self._misses = 0
        self._bypass = 0
        self._flushed_at = 0
        """`_hits` at the last flush."""

    @classmethod
    def for_rules(cls, rules: RuleSet, accumulator: Accumulator, cost: CostAccumulator) -> FastPath | None:
        try:
            return cls(FieldUse.of(rules), accumulator, cost)
        except NotEnumerable:
            return None

    def feed_lines(  # noqa: PLR0915  # one loop, no call per counted line: that is where replay's time goes
        self,
        lines: Iterable[bytes],
        counts: LineCounts,
        plain: Callable[[bytes, Learning | None], None],
        hours: HourlyIndexes | None = None,
    ) -> None:
        """Count the lines whose key has a plan; every other line goes to `plain` (with what to learn when
        its key is new), in input order. `counts` takes the lines counted here; `hours` their index hours."""
        loads = orjson.loads
        dumps = orjson.dumps
        sampling_hash = xxhash.xxh3_64_intdigest
        shapes = self._shapes
        tally = self.tally
        minutes_of = self._minutes
        date_tail = _DATE_TAIL
        longest = LONGEST_LINE
        unseen = _UNSEEN
        latest = tally.latest_minute
        counted = 0
        learning: Learning | None = None
        for line in lines:
            if self._bypass:
                self._bypass -= 1
            else:
                try:
                    raw = loads(line)
                except orjson.JSONDecodeError:
                    raw = None
                if type(raw) is dict and len(line) <= longest:
                    keys = tuple(raw)
                    shape = shapes.get(keys)
                    if shape is None:
                        shape = self._shape(keys)
                    if shape.fast:
                        values: Any = shape.values(raw)
                        try:
                            plan = shape.plans.get(values)
                        except TypeError:  # an object or array among the values: key on their JSON
                            values, plan = self._by_json(shape, values)
                        if plan is None:
                            if values is not None:
                                learning = (shape, values)
                                self._missed(counted)
                        elif (
                            not plan.plain
                            and (plan.type_key is None or type(raw[plan.type_key]) is plan.type_of)
                            and (plan.typed is None or tuple(map(type, plan.typed(raw))) == plan.types)
                            and (not plan.checks or plan.unscanned(raw))
                            and (plan.exact is None or dumps(values) == plan.exact)
                        ):
                            # The date's minute; an undated log takes the previous dated log's.
                            date_key = plan.date_key
                            if date_key is not None:
                                value = raw[date_key]
                            else:
                                value = None
                                for date_key in plan.dates:
                                    value = raw[date_key]
                                    if value is not None:
                                        break
                            if value is None:
                                minute = latest
                            else:
                                if type(value) is str and date_tail(value, 16) is not None:
                                    minute = minutes_of.get(value[:16], unseen)  # type: ignore[arg-type]
                                    if minute is unseen:
                                        minute = self._minute_of(value)
                                else:
                                    minute = _minute(parse_date(value))
                                if minute is None:
                                    minute = latest
                                elif minute != latest:
                                    tally.dated(minute)
                                    latest = minute
                            sampling = plan.sampling
                            if not sampling:
                                kept = plan.kept
                            elif sampling == BY_LINE:
                                kept = sampling_hash(line) >= plan.kept_from
                            else:
                                sample = raw[plan.sample_key]
                                if type(sample) is dict:
                                    fold_dotted_keys(sample)  # as preprocessing would have
                                kept = sample is None or sampling_hash(str(sample).encode()) >= plan.kept_from
                            if kept:
                                kept_minutes = plan.kept_minutes
                                kept_minutes[minute] = kept_minutes.get(minute, 0) + 1
                            else:
                                plan.dropped += 1
                            plan.size += len(line.rstrip(b"\r\n"))
                            if plan.measured:
                                plan.rows.append((minute, kept, plan.measured(raw)))
                            if hours is not None:
                                hours.add(parse_date(value), plan.decision, kept)
                            counted += 1
                            continue
            if counted:
                counts.counted(counted)
                self._hits += counted
                counted = 0
            plain(line, learning)
            learning = None
            latest = tally.latest_minute
        if counted:
            counts.counted(counted)
            self._hits += counted
        if self._hits - self._flushed_at >= FLUSH_EVERY:
            self.flush()

    def _minute_of(self, value: str) -> int | None:
        """The minute of a date with the logger's tail; its first 16 characters are cached when they decide the
        minute whatever the tail (a valid date's, or not a date at all), which is every minute but the last
        one there is, where some tails pass the latest date."""
        head = value[:16]
        if _DATE_HEAD(head) is not None:
            minute = _minute(parse_date(head + ":00.000000Z"))
            if minute is None or minute < _LAST_MINUTE:
                if len(self._minutes) >= MINUTES_CACHED:
                    self._minutes.clear()  # one entry per minute of input: a long replay must not grow it
                self._minutes[head] = minute
        return _minute(parse_date(value))

    def _by_json(self, shape: _Shape, values: Any) -> tuple[bytes | None, Plan | None]:
        try:
            encoded = orjson.dumps(values)
        except TypeError:  # an integer beyond 64 bits
            return None, None
        return encoded, shape.plans.get(encoded)

    def _missed(self, unsynced_hits: int) -> None:
        """Step aside for a while when most of the last lookups missed: keys are not repeating."""
        self._misses += 1
        lookups = self._hits + unsynced_hits - self._window_hits + self._misses
        if lookups >= WINDOW:
            if self._misses * 2 > lookups:
                self._bypass = BYPASS
            self._window_hits = self._hits + unsynced_hits
            self._misses = 0

    def _shape(self, keys: tuple[str, ...]) -> _Shape:
        if len(self._shapes) >= CACHE_SIZE:
            self._forget()
        deciding = tuple(key for key in self.use.deciding if key in keys)
        # The date may come from a nested `syslog.timestamp`, which plans do not read.
        fast = "syslog" not in keys and not _may_be_processed(keys)
        for key in keys:
            if "." in key and key not in deciding and any(_overlaps("@" + key, "@" + w) for w in self.use.watched):
                fast = False  # preprocessing folds it over a path some stage reads
        shape = _Shape(keys, deciding, _getter(deciding), {}, fast)
        self._shapes[keys] = shape
        return shape

    def _forget(self) -> None:
        """Drop every plan, after counting what they hold: a size cap keeps memory flat when keys stop
        repeating."""
        self.flush()
        self._shapes.clear()
        self.planned = 0

    def learn(self, learning: Learning, ingested: Ingested) -> None:
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
        typed: dict[str, type] = {}
        exact: bytes | None = None
        if type(values) is tuple:
            typed.update(
                (key, type(value))
                for key, value in zip(shape.deciding, values, strict=True)
                if type(value) is not str and value is not None
            )
            if any(type(v) is float and v == 0 for v in values):
                exact = orjson.dumps(values)
        accumulator = self.accumulator
        use = self.use
        copies = [name for name in use.per_log if name in present]
        metrics = [(metric, metric.group_of(record)) for metric in accumulator.matching_metrics(record)]
        monitors = accumulator.matching_monitors(record, decision.index) if decision.may_be_indexed else []
        measured = tuple(name for name in copies if name in use.measures)
        typed_keys = tuple(typed)
        sampling, sample_key, plain = self._sampling(decision, present)
        dates = tuple(key for key in DATE_KEYS if key in present)
        return Plan(
            record=record,
            decision=decision,
            count_metrics=[(metric, group) for metric, group in metrics if not metric.measured],
            measure_metrics=[(metric, group) for metric, group in metrics if metric.measured],
            count_monitors=[(buckets, buckets.group_keys(record)) for buckets in monitors if buckets.kind == "count"],
            measure_monitors=[buckets for buckets in monitors if buckets.kind != "count"],
            undecidable=accumulator.undecidable_monitors(record) if decision.may_be_indexed else [],
            dates=dates,
            date_key=dates[0] if len(dates) == 1 else None,
            type_key=typed_keys[0] if len(typed_keys) == 1 else None,
            type_of=typed[typed_keys[0]] if len(typed_keys) == 1 else type(None),
            typed=itemgetter(*typed_keys) if len(typed_keys) > 1 else None,
            types=tuple(typed.values()),
            checks=tuple(name for name in copies if name in use.scanned and name in use.read_as_text),
            measured_keys=measured,
            measured=itemgetter(*measured) if measured else None,
            sampling=sampling,
            sample_key=sample_key,
            kept_from=decision.kept_from,
            kept=ingested.indexed,
            exact=exact,
            plain=plain or any(matches(record) for matches in self._opaque),
        )

    def _sampling(self, decision: IndexDecision, present: set[str]) -> tuple[int, str, bool]:
        """How the logs of a plan are sampled, the per-log key hashed, and whether they must go plain."""
        if decision.index is None or decision.sample_rate <= 0.0:
            return CONSTANT, "", False
        if decision.sample_attribute is None:
            return BY_LINE, "", False
        name = decision.sample_attribute.removeprefix("@")
        if name in RESERVED_ATTRIBUTES:
            return CONSTANT, "", True  # read from the record when the attribute is absent: not followed here
        if name not in self.use.per_log:
            return CONSTANT, "", False  # a deciding value: the same for every log of the plan
        if name not in present:
            return CONSTANT, "", False  # absent, so not sampled (`kept` says so)
        return BY_VALUE, name, False

    def flush(self) -> None:
        """Add what every plan counted since the last flush to the tally, metrics, monitors and cost."""
        for shape in self._shapes.values():
            for plan in shape.plans.values():
                if plan.pending:
                    self._flush(plan)
        self._flushed_at = self._hits

    def _flush(self, plan: Plan) -> None:
        tally = self.tally
        kept_minutes, dropped = plan.kept_minutes, plan.dropped
        kept = sum(kept_minutes.values())
        total = kept + dropped
        decision = plan.decision
        tally.events += total
        if decision.index is None:
            tally.unrouted += total
        else:
            counts = tally.indexes[decision.index]
            counts.matched += total
            counts.indexed += kept
            counts.excluded += dropped
        self.cost.add_many(decision, kept_minutes, dropped, plan.size)
        record = plan.record
        for aggregator, group in plan.count_metrics:
            aggregator.add_to(group, record, total)
        if kept:
            for buckets, keys in plan.count_monitors:
                for minute, count in kept_minutes.items():
                    buckets.count(keys, minute, count)
            for slug in plan.undecidable:
                tally.undecidable[slug] += kept
        if plan.rows:
            self._flush_measures(plan)
            plan.rows = []
        plan.kept_minutes = {}
        plan.dropped = plan.size = 0

    @staticmethod
    def _flush_measures(plan: Plan) -> None:
        """Count the measured values of the plan's logs: each distinct (minute, kept, values) once, with its
        number of logs, when the values allow it; otherwise row by row."""
        names = plan.measured_keys
        values = map(itemgetter(2), plan.rows)
        kinds = set(map(type, itertools.chain.from_iterable(values) if len(names) > 1 else values))
        rows: Iterable[tuple[tuple[int | None, bool, Any], int]] = (
            Counter(plan.rows).items() if kinds <= _COUNTABLE else ((row, 1) for row in plan.rows)
        )
        record = plan.record
        attributes = record.attributes
        for (minute, kept, measured), count in rows:
            for name, value in zip(names, (measured,) if len(names) == 1 else measured, strict=True):
                if type(value) is dict:
                    fold_dotted_keys(value)  # as preprocessing would have
                attributes[name] = value
            for aggregator, group in plan.measure_metrics:
                aggregator.add_to(group, record, count)
            if kept:
                for buckets in plan.measure_monitors:
                    buckets.add(record, minute, count)


def _minute(timestamp: float | None) -> int | None:
    return None if timestamp is None else math.floor(timestamp / 60)


class LineCounts(Protocol):
    def counted(self, lines: int) -> None:
        """`lines` more lines of logger output were read and counted."""
