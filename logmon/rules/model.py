"""The typed rule model: what `rules/*.yaml` may say, as pydantic models that remember their source.

Pure data, no Pulumi. Every model built from YAML keeps the positions of its fields, so a check can point
at `rules/monitors.yaml:42:7`. Constraints that deserve a named lint check (index name format, sample
rates, window range, ...) are shown to editors through the JSON Schema but enforced by `logmon lint`, so a
mistake there gets a finding with the check's name rather than a generic schema error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidatorFunctionWrapHandler,
    model_validator,
)

from logmon.diagnostics import Location
from logmon.rules.source import LocatedDict, LocatedList, Scalar

UNKNOWN_LOCATION = Location("<rules>", 1, 1)

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
"""Monitor, pipeline and archive keys: they name Pulumi resources (`monitor-<slug>`)."""

SearchQuery = Annotated[
    str,
    Field(description="Datadog log search syntax, e.g. `@event_type:payment_completion @payment_status:failed`."),
]
AttributePath = Annotated[
    str,
    Field(pattern=r"^@?[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*$", description="An attribute path."),
]


@dataclass(frozen=True, slots=True)
class ModelSource:
    """Where a model and each of its fields are written. The mappings are shared with the located YAML and
    never changed in place: a model with replaced fields gets a new ModelSource."""

    location: Location
    field_locations: Mapping[str, Location]
    scalars: Mapping[str, Scalar]
    lists: Mapping[str, LocatedList]
    keys: Mapping[str, Mapping[str, Location]]

    @classmethod
    def of(cls, data: LocatedDict) -> ModelSource:
        lists: dict[str, LocatedList] = {}
        keys: dict[str, Mapping[str, Location]] = {}
        for key, value in data.items():
            if type(value) is LocatedList:
                lists[key] = value
            elif type(value) is LocatedDict:
                keys[key] = value.key_locations
        return cls(data.location, data.value_locations, data.scalars, lists, keys)


NO_SOURCE = ModelSource(UNKNOWN_LOCATION, {}, {}, {}, {})


def _no_source() -> ModelSource:
    # A factory, not a default: pydantic deep-copies a private attribute's default for every instance.
    return NO_SOURCE


class RuleModel(BaseModel):
    """Base of every rule model: strict types, no unknown keys, and source positions kept."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, use_attribute_docstrings=True, allow_inf_nan=False
    )

    _source: ModelSource = PrivateAttr(default_factory=_no_source)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_source(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        model = handler(data)
        if isinstance(data, LocatedDict) and isinstance(model, RuleModel):
            model._source = ModelSource.of(data)
        return model

    def where(self, field: str | None = None) -> Location:
        """Where this object, or one of its fields, is written."""
        source = self._source
        if field is None:
            return source.location
        return source.field_locations.get(field, source.location)

    def scalar(self, field: str) -> Scalar | None:
        """The field's scalar as written, to locate an offset inside it (a query's column)."""
        return self._source.scalars.get(field)

    def key_where(self, field: str, key: str) -> Location:
        """Where a key of a mapping field is written (an override's slug, say)."""
        return self._source.keys.get(field, {}).get(key, self.where(field))

    def item_where(self, field: str, index: int) -> Location:
        items = self._source.lists.get(field)
        return items.where(index) if items is not None else self.where(field)

    def item_scalar(self, field: str, index: int) -> Scalar | None:
        items = self._source.lists.get(field)
        return items.scalars.get(index) if items is not None else None

    def position_in(self, field: str, offset: int) -> Location:
        """The file position of character `offset` of a text field (e.g. a search query)."""
        scalar = self.scalar(field)
        return scalar.position(offset) if scalar is not None else self.where(field)

    def with_updates(
        self,
        updates: Mapping[str, Any],
        source: RuleModel | None = None,
        locations: Mapping[str, Location] | None = None,
    ) -> Self:
        """A copy with some fields replaced; replaced fields point where `source` (an override) wrote them,
        or at the given `locations`."""
        copy = self.model_copy(update=dict(updates))
        mine = self._source
        field_locations = dict(mine.field_locations)
        scalars = dict(mine.scalars)
        lists = dict(mine.lists)
        if source is not None:
            theirs = source._source
            for key in updates:
                if key in theirs.field_locations:
                    field_locations[key] = theirs.field_locations[key]
                if key in theirs.scalars:
                    scalars[key] = theirs.scalars[key]
                if key in theirs.lists:
                    lists[key] = theirs.lists[key]
        for key, location in (locations or {}).items():
            field_locations[key] = location
            scalars.pop(key, None)
        copy._source = ModelSource(mine.location, field_locations, scalars, lists, dict(mine.keys))
        return copy


# ---------------------------------------------------------------------------------------------- monitors

Comparator = Literal[">", ">=", "<", "<="]
Rollup = Literal["count", "cardinality", "avg", "sum", "min", "max", "median", "pc75", "pc90", "pc95", "pc98", "pc99"]


class Threshold(RuleModel):
    comparator: Comparator = ">"
    """How the evaluated value is compared with the thresholds."""
    critical: float
    """Alert when the value crosses this, in `unit`s."""
    warning: float | None = None
    """Warn when the value crosses this (must sit before `critical` in the comparator's direction)."""
    unit: Literal["per_window", "per_minute"] = "per_window"
    """`per_minute` numbers are multiplied by the window's minutes to build the query (count rollups only)."""
    alert_on_single_log: bool = False
    """Set true when one matching log must page (e.g. a security incident); otherwise lint refuses such a threshold."""


class Notify(RuleModel):
    critical: list[str] = []
    """Handles notified when the monitor alerts, e.g. `@pagerduty-payments`."""
    warning: list[str] = []
    """Handles notified when the monitor warns, e.g. `@slack-payments-alerts`."""


class Monitor(RuleModel):
    """A log monitor. The Datadog query is built from these fields, so its number equals the threshold."""

    refused_keys: ClassVar[Mapping[str, str]] = {
        "evaluation_delay": "`evaluation_delay` applies to metric monitors only (the Datadog provider's monitor "
        "documentation), so a log monitor would not honour it; remove the key (see docs/decisions.md)",
    }
    """Keys people may carry over from other monitor types, each with why it is refused here."""

    name: str = Field(min_length=1)
    """The monitor's title in Datadog."""
    search: SearchQuery | None = None
    """Which logs to count (Datadog search syntax)."""
    query: str | None = None
    """A complete `logs(...)...` monitor query, for monitors not expressible with the fields below."""
    indexes: list[str] = ["*"]
    """Indexes to evaluate; `*` means every standard index."""
    rollup: Rollup = "count"
    """`count`, `cardinality` of an attribute, or a measure aggregation (`avg`, `sum`, `pc95`, ...)."""
    measure: str | None = None
    """The `@attribute` that `cardinality` or a measure aggregation applies to."""
    group_by: list[str] = []
    """Facets to group by (one alert per group), e.g. `@currency`."""
    window: str | None = Field(default=None, json_schema_extra={"pattern": r"^[1-9][0-9]*[mh]$"})
    """Evaluation window: `5m`, `1h` (1 minute to 2 days)."""
    threshold: Threshold
    priority: int | None = Field(default=None, json_schema_extra={"minimum": 1, "maximum": 5})
    """Datadog priority, 1 (highest) to 5."""
    tags: list[str] = []
    notify: Notify = Notify()
    message: str = ""
    """The notification body; handles are added per severity from `notify`."""
    renotify_interval: int | None = Field(default=None, ge=0)
    """Minutes before re-notifying while still alerting."""

    @model_validator(mode="after")
    def _search_or_query(self) -> Monitor:
        if (self.search is None) == (self.query is None):
            raise ValueError("state either `search` (with `window`) or a complete `query`, not both or neither")
        if self.search is not None and self.window is None:
            raise ValueError("a monitor with `search` needs a `window` such as `5m`")
        if self.query is None and self.rollup != "count" and self.measure is None:
            raise ValueError(f"rollup `{self.rollup}` needs a `measure` such as `@usr.id`")
        if self.rollup == "count" and self.measure is not None:
            raise ValueError("rollup `count` takes no `measure`; remove it or choose another rollup")
        return self


# --------------------------------------------------------------------------------------------- pipelines


class _Processor(RuleModel):
    name: str = ""
    """A label shown in Datadog's pipeline editor."""
    enabled: bool = True


class _Remapper(_Processor):
    sources: list[str] = Field(min_length=1)
    """Attributes to read, first present wins."""


class AttributeRemapper(_Processor):
    type: Literal["attribute_remapper"]
    sources: list[str] = Field(min_length=1)
    source_type: Literal["attribute", "tag"] = "attribute"
    target: str
    target_type: Literal["attribute", "tag"] = "attribute"
    target_format: Literal["auto", "string", "integer", "double"] = "auto"
    preserve_source: bool = False
    """Keep the source attribute instead of moving it."""
    override_on_conflict: bool = False
    """Overwrite the target when it already exists."""


class StatusRemapper(_Remapper):
    type: Literal["status_remapper"]


class ServiceRemapper(_Remapper):
    type: Literal["service_remapper"]


class DateRemapper(_Remapper):
    type: Literal["date_remapper"]


class MessageRemapper(_Remapper):
    type: Literal["message_remapper"]


class TraceIdRemapper(_Remapper):
    type: Literal["trace_id_remapper"]


class Category(RuleModel):
    name: str
    filter: SearchQuery


class CategoryProcessor(_Processor):
    type: Literal["category_processor"]
    target: str
    """Attribute that receives the first matching category's name."""
    categories: list[Category] = Field(min_length=1)


class LookupProcessor(_Processor):
    type: Literal["lookup_processor"]
    source: str
    target: str
    lookup_table: dict[str, str]
    default_lookup: str | None = None


class ArithmeticProcessor(_Processor):
    type: Literal["arithmetic_processor"]
    target: str
    expression: str = Field(description="Arithmetic over attributes, e.g. `processing_time_ms * 1000000`.")
    is_replace_missing: bool = False
    """Treat a missing attribute as 0 instead of skipping the computation."""


# The processors below follow Datadog's processor pages (docs.datadoghq.com/logs/log_configuration/processors/)
# and the provider's `datadog_logs_custom_pipeline` schema; docs/pipelines.md says what the emulator does with each.


class SpanIdRemapper(_Remapper):
    type: Literal["span_id_remapper"]


class UrlParser(_Processor):
    type: Literal["url_parser"]
    sources: list[str] = Field(default=["http.url"], min_length=1)
    """Attributes holding the URL, first present wins."""
    target: str = "http.url_details"
    """Parent attribute of the parsed parts: `host`, `port`, `path`, `queryString`, `scheme`."""
    normalize_ending_slashes: bool = False
    """Drop trailing slashes from the path (`/users/` → `/users`)."""


class UserAgentParser(_Processor):
    type: Literal["user_agent_parser"]
    sources: list[str] = Field(default=["http.useragent"], min_length=1)
    target: str = "http.useragent_details"
    """Parent attribute of `browser`, `os` and `device` details."""
    is_encoded: bool = False
    """The source is URL-encoded (IIS logs) and is decoded before parsing."""


class StringBuilderProcessor(_Processor):
    type: Literal["string_builder_processor"]
    template: str = Field(min_length=1)
    """Raw text and `%{attribute.path}` blocks, e.g. `%{http.method} %{http.url}`."""
    target: str
    is_replace_missing: bool = False
    """Replace a missing attribute by an empty string instead of skipping the processor."""


class ArraySelect(RuleModel):
    type: Literal["select"]
    source: str
    """The array of objects to search."""
    filter: str
    """A search over each element (`name:Referrer`); the first matching element is used."""
    value_to_extract: str
    """The key of the matching element whose value is copied."""
    target: str


class ArrayLength(RuleModel):
    type: Literal["length"]
    source: str
    target: str


class ArrayAppend(RuleModel):
    type: Literal["append"]
    source: str
    """The attribute whose value is appended."""
    target: str
    """The array appended to; created when absent."""
    preserve_source: bool = True
    """Keep the source attribute (the provider's default)."""


class ArrayKeyValue(RuleModel):
    type: Literal["key_value"]
    source: str
    """An array of objects such as `[{"key": "a", "value": 1}]`."""
    key_to_extract: str
    value_to_extract: str
    target: str | None = None
    """Where the extracted pairs go; the log's root when unset."""
    override_on_conflict: bool = False


ArrayOperation = Annotated[ArraySelect | ArrayLength | ArrayAppend | ArrayKeyValue, Field(discriminator="type")]


class ArrayProcessor(_Processor):
    type: Literal["array_processor"]
    operation: ArrayOperation


class DecoderProcessor(_Processor):
    type: Literal["decoder_processor"]
    source: str
    target: str
    binary_to_text_encoding: Literal["base64", "base16"]
    input_representation: Literal["utf_8", "integer"] = "utf_8"
    """What the decoded bytes are: UTF-8 text, or (base16 only) a big-endian integer."""


class ExcludeAttributeProcessor(_Processor):
    type: Literal["exclude_attribute_processor"]
    attribute_to_exclude: str = Field(min_length=1)


class GeoIpParser(_Processor):
    """Datadog's GeoIP database is not available offline: its outputs are unknown to the emulator."""

    type: Literal["geo_ip_parser"]
    sources: list[str] = Field(default=["network.client.ip"], min_length=1)
    target: str = "network.client.geoip"


class ReferenceTableLookupProcessor(_Processor):
    """A lookup in a Reference Table that lives in Datadog: its output is unknown to the emulator."""

    type: Literal["reference_table_lookup_processor"]
    source: str
    target: str
    lookup_enrichment_table: str = Field(min_length=1)


ArrayMapStep = Annotated[
    AttributeRemapper | StringBuilderProcessor | ArithmeticProcessor | CategoryProcessor, Field(discriminator="type")
]


class ArrayMapProcessor(_Processor):
    """Sub-processors applied to each element of an array (its first 50), building a target array.

    Inside them, `$sourceElem` is the current element and `$targetElem` the element being built."""

    type: Literal["array_map_processor"]
    source: str
    target: str
    """The array built; equal to `source` to transform the elements in place."""
    preserve_source: bool = True
    processors: list[ArrayMapStep] = Field(min_length=1)

    @model_validator(mode="after")
    def _sub_processors_as_the_provider_takes_them(self) -> ArrayMapProcessor:
        for position, processor in enumerate(self.processors, start=1):
            if not processor.target.startswith("$targetElem"):
                raise ValueError(
                    f"sub-processor {position} writes '{processor.target}'; every target starts with `$targetElem`"
                )
            if isinstance(processor, AttributeRemapper) and "tag" in (processor.source_type, processor.target_type):
                raise ValueError(f"sub-processor {position}: an array map remaps attributes only, not tags")
            if not processor.enabled:
                raise ValueError(f"sub-processor {position}: sub-processors cannot be disabled; remove it instead")
        return self


class NestedPipeline(_Processor):
    """A pipeline inside a pipeline; Datadog allows one level: a nested pipeline holds processors only."""

    type: Literal["pipeline"]
    name: str = Field(min_length=1)
    filter: SearchQuery = "*"
    processors: list[Processor] = []


# --------------------------------------------------------------------------------------------- grok parser


class GrokParser(_Processor):
    """Datadog's grok parser: the first match rule that matches the whole `source` text extracts attributes."""

    type: Literal["grok_parser"]
    source: str = "message"
    """The attribute to parse; `message` is the log's message."""
    samples: list[str] = []
    """Example texts; `logmon lint` checks that a match rule parses each one (Datadog keeps up to 5)."""
    match_rules: str = Field(min_length=1)
    """One rule a line, `name pattern`, e.g. `access %{ipOrHost:network.client.ip} %{notSpace:http.ident} ...`;
    the first rule that matches the whole text wins."""
    support_rules: str = ""
    """Helper rules a line, `name pattern`, that match rules use as `%{name}`."""


Processor = Annotated[
    AttributeRemapper
    | StatusRemapper
    | ServiceRemapper
    | DateRemapper
    | MessageRemapper
    | TraceIdRemapper
    | CategoryProcessor
    | LookupProcessor
    | ArithmeticProcessor
    | SpanIdRemapper
    | UrlParser
    | UserAgentParser
    | StringBuilderProcessor
    | ArrayProcessor
    | DecoderProcessor
    | ExcludeAttributeProcessor
    | GeoIpParser
    | ReferenceTableLookupProcessor
    | ArrayMapProcessor
    | NestedPipeline
    | GrokParser,
    Field(discriminator="type"),
]


class Pipeline(RuleModel):
    name: str = Field(min_length=1)
    filter: SearchQuery = "*"
    """Logs the pipeline applies to."""
    enabled: bool = True
    processors: list[Processor] = []

    def all_processors(self) -> list[tuple[Processor, NestedPipeline | None]]:
        """Every processor with the nested pipeline holding it (None at the top level), nested ones included."""
        found: list[tuple[Processor, NestedPipeline | None]] = []

        def walk(processors: list[Processor], parent: NestedPipeline | None) -> None:
            for processor in processors:
                found.append((processor, parent))
                if isinstance(processor, NestedPipeline):
                    walk(processor.processors, processor)

        walk(self.processors, None)
        return found


NestedPipeline.model_rebuild()


# ----------------------------------------------------------------------------------------------- indexes


class ExclusionFilter(RuleModel):
    name: str = Field(min_length=1)
    filter: SearchQuery
    """Logs this filter applies to."""
    sample_rate: float = Field(json_schema_extra={"minimum": 0, "maximum": 1})
    """The fraction of matching logs EXCLUDED from the index (1.0 drops them all)."""
    sample_attribute: str | None = None
    """Sample by this attribute's value (e.g. `@correlation_id`) so a whole request is kept or dropped;
    logs without the attribute are not sampled."""
    enabled: bool = True


class Index(RuleModel):
    """A Datadog log index; the mapping key is its name, which can never be reused once deleted."""

    filter: SearchQuery = "*"
    """Logs routed here (a log goes to the first index that matches)."""
    flex_only: bool = False
    """Keep logs in the Flex tier only: cheap, slower search, and invisible to monitors."""
    retention_days: int | None = Field(default=None, json_schema_extra={"minimum": 1})
    """Standard (hot) tier days; defaults to `retention.hot.days`."""
    flex_retention_days: int | None = Field(default=None, json_schema_extra={"minimum": 1})
    """Total days in Datadog, standard plus Flex (warm); defaults to `retention.warm.days`."""
    daily_limit: int | None = Field(default=None, json_schema_extra={"minimum": 1})
    """Logs per day before the index stops indexing."""
    daily_limit_warning_percent: float | None = Field(default=None, json_schema_extra={"minimum": 50})
    exclusion_filters: list[ExclusionFilter] = []
    """Evaluated in order; only the first matching filter applies."""


# ----------------------------------------------------------------------------------------------- metrics


class MetricGroupBy(RuleModel):
    path: str
    """The attribute, e.g. `@currency`."""
    tag: str
    """The metric tag it becomes, e.g. `currency`."""


class Metric(RuleModel):
    """A log-based metric; the mapping key is the metric name (immutable in Datadog)."""

    filter: SearchQuery = "*"
    compute: Literal["count", "distribution"]
    """`count` of matching logs, or a `distribution` of a numeric attribute (`path`)."""
    path: str | None = None
    """The measure a distribution is computed from, e.g. `@processing_time_ms`."""
    include_percentiles: bool = False
    group_by: list[MetricGroupBy | str] = []
    """`@attr` (tagged by its last segment) or `{path: '@attr', tag: name}`."""

    @model_validator(mode="after")
    def _path_matches_compute(self) -> Metric:
        if self.compute == "distribution" and not self.path:
            raise ValueError("a `distribution` metric needs a `path` such as `@processing_time_ms`")
        if self.compute == "count" and self.path:
            raise ValueError("a `count` metric takes no `path`; remove it or use `distribution`")
        return self

    def group_bys(self) -> list[MetricGroupBy]:
        """Group-bys with the shorthand `@a.b` expanded to `{path: '@a.b', tag: 'b'}`."""
        return [
            item if isinstance(item, MetricGroupBy) else MetricGroupBy(path=item, tag=item.split(".")[-1].lstrip("@"))
            for item in self.group_by
        ]


# ------------------------------------------------------------------------------------- retention, archive

StorageClass = Literal[
    "STANDARD", "STANDARD_IA", "INTELLIGENT_TIERING", "ONEZONE_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"
]


class DatadogTier(RuleModel):
    days: int
    """Days logs stay searchable in this tier (warm: total days in Datadog, standard plus Flex)."""


class Transition(RuleModel):
    after_days: int
    """Days after the object was written (logs are archived as they are ingested)."""
    storage_class: StorageClass


class ColdTier(RuleModel):
    transitions: list[Transition]
    """S3 storage-class transitions of the archive, in increasing days down the storage-class waterfall."""


class Retention(RuleModel):
    """Hot, warm, cold and deletion, mapped onto Datadog tiers and S3 lifecycle rules."""

    hot: DatadogTier
    """Datadog Standard tier: fast search; monitors see these logs."""
    warm: DatadogTier
    """Datadog Flex tier: slower search, cost-effective (total days including hot)."""
    cold: ColdTier
    """The S3 archive: every log from ingestion, moved down storage classes as it ages."""
    delete_after_days: int
    """Objects expire from the archive after this many days (7 years = 2557 days)."""
    noncurrent_versions_expire_after_days: int = 30
    abort_incomplete_uploads_after_days: int = 7
    compliance: list[Literal["pci-dss-10.5.1"]] = []
    """Profiles checked by lint; PCI DSS 10.5.1: 12 months kept, the last 3 immediately available."""


class Archive(RuleModel):
    """A Datadog log archive writing to the stack's S3 bucket; logs go to the first archive that matches."""

    name: str = Field(min_length=1)
    query: SearchQuery = "*"
    path: str = Field(default="/datadog", pattern=r"^/[A-Za-z0-9._/\-]*$")
    """Prefix inside the bucket; objects land at `<path>/dt=YYYYMMDD/hour=HH/`."""
    storage_class: Literal["STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR"] = "STANDARD"
    """The class Datadog writes objects in; later classes follow `retention.cold`."""
    include_tags: bool = True
    rehydration_tags: list[str] = []
    """Tags added to logs rehydrated from this archive."""
    rehydration_max_scan_size_in_gb: int | None = None


# -------------------------------------------------------------------------------- sensitive data scanner


class ScannerReplacement(RuleModel):
    type: Literal["hash", "replacement_string", "partial_replacement_from_beginning", "partial_replacement_from_end"]
    """What replaces a match: a hash, a fixed string, or the first/last `number_of_chars` characters masked."""
    replacement_string: str | None = None
    number_of_chars: int | None = Field(default=None, ge=1)


NamespacePath = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*$",
        description="An attribute path without `@`, e.g. `dd` or `http.url`; it covers every attribute under it.",
    ),
]


def _under(path: str, namespace: str) -> bool:
    return path == namespace or path.startswith(f"{namespace}.")


class ScannerRule(RuleModel):
    """One scanning rule; the mapping key names its Pulumi resource (`sensitive-data-rule-<slug>`)."""

    name: str = Field(min_length=1)
    regex: str | None = None
    """A custom regular expression (checked offline)."""
    library_rule: str | None = None
    """The exact name of a rule in Datadog's Scanning Rule Library, e.g. `Visa Card Scanner (4x4 digits)`,
    looked up when deploying. Library card rules validate the Luhn checksum and use Datadog's recommended
    keywords."""
    replacement: ScannerReplacement
    tags: list[str] = []
    namespaces: list[NamespacePath] = []
    """Scan only these attributes; empty scans every attribute that is not excluded."""
    excluded_namespaces: list[NamespacePath] = []
    """Attributes this rule does not scan, besides the group's `excluded_namespaces`."""
    priority: int | None = Field(default=None, json_schema_extra={"minimum": 1, "maximum": 5})
    """How Datadog ranks this rule's findings in its summary, 1 (highest) to 5."""

    @model_validator(mode="after")
    def _one_pattern(self) -> ScannerRule:
        if (self.regex is None) == (self.library_rule is None):
            raise ValueError("state either a custom `regex` or a `library_rule` name")
        return self


class ScannerScope(BaseModel):
    """Which attributes one rule scans, as Datadog is told: `namespaces` (all when empty) minus `excluded`."""

    model_config = ConfigDict(frozen=True)

    namespaces: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    def covers(self, path: str) -> bool:
        """Whether the rule scans the attribute at `path` (`dd.span_id`, no `@`)."""
        path = path.removeprefix("@")
        if self.namespaces and not any(_under(path, namespace) for namespace in self.namespaces):
            return False
        return not any(_under(path, excluded) for excluded in self.excluded)


class SensitiveDataScanner(RuleModel):
    name: str
    filter: SearchQuery
    """Logs the scanning group applies to."""
    excluded_namespaces: list[NamespacePath] = []
    """Attributes no rule of the group scans: identifiers that only look like sensitive data, such as the
    trace and span IDs under `dd`."""
    rules: dict[Slug, ScannerRule] = Field(min_length=1)
    """Rules by slug; the order does not matter."""

    def scope(self, slug: str) -> ScannerScope:
        """The attributes rule `slug` scans. Datadog requires every excluded path to lie inside one of the
        rule's `namespaces` when it has some, so group exclusions outside them are left out (they are not
        scanned anyway)."""
        rule = self.rules[slug]
        inherited = [
            path
            for path in self.excluded_namespaces
            if not rule.namespaces or any(_under(path, namespace) for namespace in rule.namespaces)
        ]
        return ScannerScope(
            namespaces=tuple(rule.namespaces),
            excluded=tuple(dict.fromkeys([*inherited, *rule.excluded_namespaces])),
        )


# ----------------------------------------------------------------------------------------------- files


class RulesFile(RuleModel):
    """One file under `rules/`. Any section may appear in any file; keep one concern per file."""

    monitors: dict[Slug, Monitor] = {}
    pipelines: dict[Slug, Pipeline] = {}
    indexes: dict[str, Index] = {}
    metrics: dict[str, Metric] = {}
    retention: Retention | None = None
    archives: dict[Slug, Archive] = {}
    sensitive_data: SensitiveDataScanner | None = None


# --------------------------------------------------------------------------------------------- overrides


class ThresholdOverride(RuleModel):
    critical: float | None = None
    warning: float | None = None


class MonitorOverride(RuleModel):
    threshold: ThresholdOverride | None = None
    notify: Notify | None = None
    priority: int | None = None
    window: str | None = None


class IndexOverride(RuleModel):
    daily_limit: int | None = None
    exclusion_sample_rates: dict[str, float] = {}
    """Exclusion filter name → sample rate for this environment."""


class Overrides(RuleModel):
    """Per-environment changes to rules, written in `Pulumi.<stack>.yaml` without copying a rule."""

    monitors: dict[str, MonitorOverride] = {}
    indexes: dict[str, IndexOverride] = {}
