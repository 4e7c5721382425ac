"""Everything Datadog does with the logs: pipelines, indexes and their order, log-based metrics, the log
monitors and the Sensitive Data Scanner group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_datadog as datadog

from infra.components.org_order import merged_order
from infra.settings import StackSettings
from logmon.queries import query_text, thresholds
from logmon.rules import model
from logmon.rules.loader import RuleSet
from logmon.search.monitor_query import format_number

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


def notification_message(body: str, critical: Sequence[str], warning: Sequence[str]) -> str:
    """The monitor message: the body, then per-severity handles so each severity pages whom it should."""
    lines = [body.rstrip()]
    if critical:
        handles = " ".join(critical)
        lines += [
            "",
            f"{{{{#is_alert}}}}{handles}{{{{/is_alert}}}}",
            f"{{{{#is_alert_recovery}}}}{handles}{{{{/is_alert_recovery}}}}",
        ]
    if warning:
        handles = " ".join(warning)
        lines += [
            f"{{{{#is_warning}}}}{handles}{{{{/is_warning}}}}",
            f"{{{{#is_warning_recovery}}}}{handles}{{{{/is_warning_recovery}}}}",
        ]
    return "\n".join(lines).strip() + "\n"


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
    assert isinstance(processor, model.ArithmeticProcessor)
    return datadog.LogsCustomPipelineProcessorArgs(
        arithmetic_processor=datadog.LogsCustomPipelineProcessorArithmeticProcessorArgs(
            target=processor.target,
            expression=processor.expression,
            is_replace_missing=processor.is_replace_missing,
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
        return datadog.Monitor(
            f"monitor-{slug}",
            name=monitor.name,
            type="log alert",
            query=query_text(monitor),
            message=notification_message(
                monitor.message,
                _unique(monitor.notify.critical, args.critical_handles),
                _unique(monitor.notify.warning, args.warning_handles),
            ),
            monitor_thresholds=datadog.MonitorMonitorThresholdsArgs(
                critical=format_number(critical),
                warning=format_number(warning) if warning is not None else None,
            ),
            priority=str(monitor.priority) if monitor.priority is not None else None,
            tags=sorted({*monitor.tags, *args.tags, f"monitor:{slug}"}),
            require_full_window=monitor.rollup != "count",
            on_missing_data="default",
            evaluation_delay=monitor.evaluation_delay or None,
            renotify_interval=monitor.renotify_interval,
            include_tags=True,
            enable_logs_sample=True,
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
        for position, rule in enumerate(scanner.rules):
            standard_pattern_id = (
                datadog.get_sensitive_data_scanner_standard_pattern_output(filter=rule.library_rule).id
                if rule.library_rule is not None
                else None
            )
            datadog.SensitiveDataScannerRule(
                f"sensitive-data-rule-{position}",
                group_id=group.id,
                name=rule.name,
                pattern=rule.regex,
                standard_pattern_id=standard_pattern_id,
                text_replacement=datadog.SensitiveDataScannerRuleTextReplacementArgs(
                    type=rule.replacement.type,
                    replacement_string=rule.replacement.replacement_string,
                    number_of_chars=rule.replacement.number_of_chars,
                ),
                tags=rule.tags,
                is_enabled=True,
                opts=opts,
            )
