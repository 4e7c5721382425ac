"""Everything Datadog does with the logs: pipelines, indexes and their order, log-based metrics, the log
monitors and the Sensitive Data Scanner group."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_datadog as datadog

from infra.components.org_order import merged_order
from infra.components.processor_blocks import enrichment_processor_args
from logmon.queries import monitor_options, query_text, thresholds
from logmon.rules import model
from logmon.rules.loader import RuleSet
from logmon.search.monitor_query import format_number
from logmon.settings import StackSettings

TYPE_TOKEN = "logmon:datadog:Logs"


@dataclass(frozen=True)
class DatadogLogsArgs:
    rules: RuleSet
    """The rules of this environment (overrides already applied)."""
    environment: str
    critical_handles: Sequence[str] = ()
    """Handles every monitor notifies on alert in this environment, beside the monitor's own."""
    warning_handles: Sequence[str] = ()
    protect: bool = False
    """Protect the indexes: a deleted index name can never be used again."""
    manage_pipeline_order: bool = False
    integration_pipeline_ids: Sequence[str] = ()
    """Pipelines that stay ahead of ours when this stack manages the org-wide pipeline order."""
    tags: Sequence[str] = field(default=())

    @classmethod
    def from_settings(cls, settings: StackSettings, rules: RuleSet) -> DatadogLogsArgs:
        return cls(
            rules=rules,
            environment=settings.environment,
            critical_handles=tuple(settings.notifications.critical),
            warning_handles=tuple(settings.notifications.warning),
            protect=settings.protect,
            manage_pipeline_order=settings.manage_pipeline_order,
            integration_pipeline_ids=tuple(settings.integration_pipeline_ids),
            tags=(f"env:{settings.environment}", "managed-by:logmon"),
        )


PAGING_PRIORITIES = frozenset({1, 2})
"""Monitor priorities that may page; lower ones notify the warning handles instead of PagerDuty."""


def _pages(handle: str) -> bool:
    return handle.lower().startswith("@pagerduty")


def notification_message(
    body: str, critical: Sequence[str], warning: Sequence[str], *, priority: int | None, warns: bool
) -> str:
    """The monitor message: the body, then per-severity handles so each severity pages whom it should.

    Only priority 1–2 monitors page: for the others, PagerDuty handles are left out and the alert goes to
    the warning handles as well. A monitor without a warning threshold never warns, so it gets no warning
    block.
    """
    if priority not in PAGING_PRIORITIES:
        critical = [handle for handle in _unique(critical, warning) if not _pages(handle)]
        warning = [handle for handle in warning if not _pages(handle)]
    lines = [body.rstrip()]
    if critical:
        handles = " ".join(critical)
        lines += [
            "",
            f"{{{{#is_alert}}}}{handles}{{{{/is_alert}}}}",
            f"{{{{#is_alert_recovery}}}}{handles}{{{{/is_alert_recovery}}}}",
        ]
    if warning and warns:
        handles = " ".join(warning)
        lines += [
            f"{{{{#is_warning}}}}{handles}{{{{/is_warning}}}}",
            f"{{{{#is_warning_recovery}}}}{handles}{{{{/is_warning_recovery}}}}",
        ]
    return "\n".join(lines).strip() + "\n"


QUOTA_MONITOR_PRIORITY = 2
"""A full quota blinds the error and payment monitors, so its warning pages."""


def quota_indexes(rules: RuleSet) -> list[str]:
    """Indexes with a daily limit, each watched by a daily-quota monitor."""
    return [name for name, index in rules.indexes.items() if index.daily_limit is not None]


def quota_event_query(index_name: str) -> str:
    """The event monitor query for the daily-quota events of one index.

    Datadog tags those events `datadog_index:<name>` and sends them from `source:datadog`; the phrase
    "daily quota" is in both the warning-threshold and the quota-reached event (docs/decisions.md).
    """
    search = f'source:datadog datadog_index:{index_name} "daily quota"'
    return f'events({json.dumps(search)}).rollup("count").last("1h") >= 1'


def _unique(*groups: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(handle for group in groups for handle in group))


def processor_args(processor: model.Processor) -> datadog.LogsCustomPipelineProcessorArgs:
    """One rule processor as the provider's processor block."""
    common: dict[str, Any] = {
        "name": processor.name or processor.type.replace("_", " "),
        "is_enabled": processor.enabled,
    }
    if isinstance(processor, model.AttributeRemapper):
        return datadog.LogsCustomPipelineProcessorArgs(
            attribute_remapper=datadog.LogsCustomPipelineProcessorAttributeRemapperArgs(
                sources=processor.sources,
                source_type=processor.source_type,
                target=processor.target,
                target_type=processor.target_type,
                target_format=None if processor.target_format == "auto" else processor.target_format,
                preserve_source=processor.preserve_source,
                override_on_conflict=processor.override_on_conflict,
                **common,
            )
        )
    if isinstance(processor, model.StatusRemapper):
        return datadog.LogsCustomPipelineProcessorArgs(
            status_remapper=datadog.LogsCustomPipelineProcessorStatusRemapperArgs(sources=processor.sources, **common)
        )
    if isinstance(processor, model.ServiceRemapper):
        return datadog.LogsCustomPipelineProcessorArgs(
            service_remapper=datadog.LogsCustomPipelineProcessorServiceRemapperArgs(sources=processor.sources, **common)
        )
    if isinstance(processor, model.DateRemapper):
        return datadog.LogsCustomPipelineProcessorArgs(
            date_remapper=datadog.LogsCustomPipelineProcessorDateRemapperArgs(sources=processor.sources, **common)
        )
    if isinstance(processor, model.MessageRemapper):
        return datadog.LogsCustomPipelineProcessorArgs(
            message_remapper=datadog.LogsCustomPipelineProcessorMessageRemapperArgs(sources=processor.sources, **common)
        )
    if isinstance(processor, model.TraceIdRemapper):
        return datadog.LogsCustomPipelineProcessorArgs(
            trace_id_remapper=datadog.LogsCustomPipelineProcessorTraceIdRemapperArgs(
                sources=processor.sources, **common
            )
        )
    if isinstance(processor, model.CategoryProcessor):
        return datadog.LogsCustomPipelineProcessorArgs(
            category_processor=datadog.LogsCustomPipelineProcessorCategoryProcessorArgs(
                target=processor.target,
                categories=[
                    datadog.LogsCustomPipelineProcessorCategoryProcessorCategoryArgs(
                        name=category.name,
                        filter=datadog.LogsCustomPipelineProcessorCategoryProcessorCategoryFilterArgs(
                            query=category.filter
                        ),
                    )
                    for category in processor.categories
                ],
                **common,
            )
        )
    if isinstance(processor, model.LookupProcessor):
        return datadog.LogsCustomPipelineProcessorArgs(
            lookup_processor=datadog.LogsCustomPipelineProcessorLookupProcessorArgs(
                source=processor.source,
                target=processor.target,
                lookup_tables=[f"{key},{value}" for key, value in processor.lookup_table.items()],
                default_lookup=processor.default_lookup,
                **common,
            )
        )
    if isinstance(processor, model.GrokParser):
        return grok_parser_args(processor, common)
    if not isinstance(processor, model.ArithmeticProcessor):
        return enrichment_processor_args(processor, common, processor_args)
    return datadog.LogsCustomPipelineProcessorArgs(
        arithmetic_processor=datadog.LogsCustomPipelineProcessorArithmeticProcessorArgs(
            target=processor.target,
            expression=processor.expression,
            is_replace_missing=processor.is_replace_missing,
            **common,
        )
    )


def grok_parser_args(processor: model.GrokParser, common: dict[str, Any]) -> datadog.LogsCustomPipelineProcessorArgs:
    """A grok parser: the rules texts go as written, so Datadog parses exactly what lint compiled."""
    return datadog.LogsCustomPipelineProcessorArgs(
        grok_parser=datadog.LogsCustomPipelineProcessorGrokParserArgs(
            source=processor.source,
            samples=list(processor.samples) or None,
            grok=datadog.LogsCustomPipelineProcessorGrokParserGrokArgs(
                match_rules=processor.match_rules, support_rules=processor.support_rules
            ),
            **common,
        )
    )


class DatadogLogs(pulumi.ComponentResource):
    """The Datadog side of the log path, one child resource per rule, named by its slug."""

    monitor_ids: pulumi.Output[dict[str, str]]
    index_names: pulumi.Output[list[str]]

    def __init__(self, name: str, args: DatadogLogsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        rules = args.rules

        pipelines = [self._pipeline(slug, pipeline, child) for slug, pipeline in rules.pipelines.items()]
        if args.manage_pipeline_order:
            datadog.LogsPipelineOrder(
                "pipeline-order",
                name="pipeline-order",
                pipelines=[*args.integration_pipeline_ids, *(p.id for p in pipelines)],
                opts=child,
            )

        indexes = [self._index(index_name, rules, args.protect, child) for index_name in rules.indexes]
        if indexes:
            # The order is the organization's: keep the indexes this stack does not manage where they are.
            current = datadog.get_logs_indexes_order_output(opts=pulumi.InvokeOutputOptions(parent=self))
            ours = list(rules.indexes)
            datadog.LogsIndexOrder(
                "index-order",
                name="index-order",
                indexes=current.index_names.apply(lambda names: merged_order(names or [], ours)),
                opts=pulumi.ResourceOptions(parent=self, depends_on=indexes),
            )

        for metric_name, metric in rules.metrics.items():
            self._metric(metric_name, metric, child)

        monitors = {slug: self._monitor(slug, monitor, args, child) for slug, monitor in rules.monitors.items()}
        monitors |= {f"daily-quota-{name}": self._quota_monitor(name, args, child) for name in quota_indexes(rules)}

        if rules.sensitive_data is not None:
            self._scanner(rules.sensitive_data, child)

        self.monitor_ids = pulumi.Output.all(**{slug: m.id for slug, m in monitors.items()}).apply(dict)
        self.index_names = pulumi.Output.all(*(index.name for index in indexes)).apply(list)
        self.register_outputs({"monitor_ids": self.monitor_ids, "index_names": self.index_names})

    def _pipeline(
        self, slug: str, pipeline: model.Pipeline, opts: pulumi.ResourceOptions
    ) -> datadog.LogsCustomPipeline:
        return datadog.LogsCustomPipeline(
            f"pipeline-{slug}",
            name=pipeline.name,
            is_enabled=pipeline.enabled,
            filters=[datadog.LogsCustomPipelineFilterArgs(query=pipeline.filter)],
            processors=[processor_args(p) for p in pipeline.processors],
            opts=opts,
        )

    def _index(self, name: str, rules: RuleSet, protect: bool, opts: pulumi.ResourceOptions) -> datadog.LogsIndex:
        index = rules.indexes[name]
        standard_days, total_days = rules.index_retention(name)
        return datadog.LogsIndex(
            f"index-{name}",
            name=name,
            filters=[datadog.LogsIndexFilterArgs(query=index.filter)],
            retention_days=standard_days,
            flex_retention_days=total_days,
            daily_limit=index.daily_limit,
            daily_limit_warning_threshold_percentage=index.daily_limit_warning_percent,
            exclusion_filters=[
                datadog.LogsIndexExclusionFilterArgs(
                    name=exclusion.name,
                    is_enabled=exclusion.enabled,
                    filters=[
                        datadog.LogsIndexExclusionFilterFilterArgs(
                            query=exclusion.filter,
                            sample_rate=exclusion.sample_rate,
                            sample_attribute=exclusion.sample_attribute,
                        )
                    ],
                )
                for exclusion in index.exclusion_filters
            ],
            # Deleting an index deletes it in Datadog, and its name can never be used again: a removed rule
            # leaves the index in Datadog, no longer managed (the README says how to really delete one).
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=protect, retain_on_delete=True)),
        )

    def _metric(self, name: str, metric: model.Metric, opts: pulumi.ResourceOptions) -> datadog.LogsMetric:
        return datadog.LogsMetric(
            f"metric-{name}",
            name=name,
            compute=datadog.LogsMetricComputeArgs(
                aggregation_type=metric.compute,
                path=metric.path,
                include_percentiles=metric.include_percentiles if metric.compute == "distribution" else None,
            ),
            filter=datadog.LogsMetricFilterArgs(query=metric.filter),
            group_bies=[datadog.LogsMetricGroupByArgs(path=g.path, tag_name=g.tag) for g in metric.group_bys()],
            opts=opts,
        )

    def _monitor(
        self, slug: str, monitor: model.Monitor, args: DatadogLogsArgs, opts: pulumi.ResourceOptions
    ) -> datadog.Monitor:
        critical, warning = thresholds(monitor)
        options = monitor_options(monitor)  # the evaluator honours the same options offline
        return datadog.Monitor(
            f"monitor-{slug}",
            name=monitor.name,
            type="log alert",
            query=query_text(monitor),
            message=notification_message(
                monitor.message,
                _unique(monitor.notify.critical, args.critical_handles),
                _unique(monitor.notify.warning, args.warning_handles),
                priority=monitor.priority,
                warns=warning is not None,
            ),
            monitor_thresholds=datadog.MonitorMonitorThresholdsArgs(
                critical=format_number(critical),
                warning=format_number(warning) if warning is not None else None,
            ),
            priority=str(monitor.priority) if monitor.priority is not None else None,
            tags=sorted({*monitor.tags, *args.tags, f"monitor:{slug}"}),
            require_full_window=options.require_full_window,
            on_missing_data=options.on_missing_data,
            renotify_interval=monitor.renotify_interval,
            include_tags=True,
            enable_logs_sample=True,
            opts=opts,
        )

    def _quota_monitor(self, index_name: str, args: DatadogLogsArgs, opts: pulumi.ResourceOptions) -> datadog.Monitor:
        """Datadog writes an event when an index reaches its daily quota's warning threshold or the quota;
        past the quota nothing more is indexed that day, so log monitors on the index go blind."""
        index = args.rules.indexes[index_name]
        reached = (
            f"its daily-quota warning threshold ({format_number(index.daily_limit_warning_percent)} %) or the quota"
            if index.daily_limit_warning_percent is not None
            else "its daily quota"
        )
        return datadog.Monitor(
            f"monitor-daily-quota-{index_name}",
            name=f"[logs] Index {index_name} near its daily quota",
            type="event-v2 alert",
            query=quota_event_query(index_name),
            message=notification_message(
                f"Index `{index_name}` reached {reached} of {index.daily_limit} logs. Past the quota nothing more "
                "is indexed until the daily reset and the log monitors on this index go blind: find the source of "
                "the volume (Log Management - Estimated Usage dashboard) and sample it, or raise the quota.",
                _unique(args.critical_handles, args.warning_handles),
                (),
                priority=QUOTA_MONITOR_PRIORITY,
                warns=False,
            ),
            monitor_thresholds=datadog.MonitorMonitorThresholdsArgs(critical="1"),
            priority=str(QUOTA_MONITOR_PRIORITY),
            tags=sorted({*args.tags, f"index:{index_name}", "monitor:daily-quota"}),
            include_tags=True,
            opts=opts,
        )

    def _scanner(self, scanner: model.SensitiveDataScanner, opts: pulumi.ResourceOptions) -> None:
        group = datadog.SensitiveDataScannerGroup(
            "sensitive-data",
            name=scanner.name,
            filter=datadog.SensitiveDataScannerGroupFilterArgs(query=scanner.filter),
            product_lists=["logs"],
            is_enabled=True,
            opts=opts,
        )
        for slug, rule in scanner.rules.items():
            # Through the component, so the lookup uses the stack's explicit Datadog provider and site.
            standard_pattern_id = (
                datadog.get_sensitive_data_scanner_standard_pattern_output(
                    filter=rule.library_rule, opts=pulumi.InvokeOutputOptions(parent=self)
                ).id
                if rule.library_rule is not None
                else None
            )
            scope = scanner.scope(slug)
            datadog.SensitiveDataScannerRule(
                f"sensitive-data-rule-{slug}",
                group_id=group.id,
                name=rule.name,
                pattern=rule.regex,
                standard_pattern_id=standard_pattern_id,
                namespaces=list(scope.namespaces) or None,
                excluded_namespaces=list(scope.excluded) or None,
                priority=rule.priority,
                text_replacement=datadog.SensitiveDataScannerRuleTextReplacementArgs(
                    type=rule.replacement.type,
                    replacement_string=rule.replacement.replacement_string,
                    number_of_chars=rule.replacement.number_of_chars,
                ),
                tags=rule.tags,
                is_enabled=True,
                opts=opts,
            )
