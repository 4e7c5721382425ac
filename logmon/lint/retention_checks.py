"""Retention tiers and archives against S3's lifecycle rules, Datadog's tiers and compliance profiles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from logmon import s3lifecycle
from logmon.diagnostics import Finding, Severity
from logmon.lint.context import LintContext
from logmon.lint.registry import Check, check
from logmon.s3lifecycle import REHYDRATABLE

SEVEN_YEARS_DAYS: Final = 2557
PCI_KEEP_DAYS: Final = 365
PCI_IMMEDIATE_DAYS: Final = 90


def _lifecycle_findings(context: LintContext, registered: Check, kinds: set[str]) -> Iterator[Finding]:
    """The S3 lifecycle problems of the retention tiers, of the given kinds, at the YAML that causes them."""
    retention = context.rules.retention
    if retention is None:
        return
    starting = {archive.storage_class for archive in context.rules.archives.values()} or {"STANDARD"}
    found = s3lifecycle.problems(
        [(t.after_days, t.storage_class) for t in retention.cold.transitions],
        retention.delete_after_days,
        max(starting, key=s3lifecycle.WATERFALL.index),
    )
    for problem in found:
        if problem.kind not in kinds:
            continue
        where = (
            retention.where("delete_after_days")
            if problem.transition is None
            else retention.cold.item_where("transitions", problem.transition)
        )
        yield registered.finding(where, problem.message, problem.text)


@check("retention/ia-minimum-days", Severity.ERROR, "S3 refuses transitions to an IA class before 30 days")
def ia_minimum_days(context: LintContext) -> Iterator[Finding]:
    yield from _lifecycle_findings(context, ia_minimum_days, {"too-early"})


@check(
    "retention/transition-order",
    Severity.ERROR,
    "transitions run in increasing days down the storage-class waterfall",
)
def transition_order(context: LintContext) -> Iterator[Finding]:
    yield from _lifecycle_findings(context, transition_order, {"days-order", "class-order"})


@check("retention/expiry-before-transition", Severity.ERROR, "expiration comes after the last transition")
def expiry_after_transitions(context: LintContext) -> Iterator[Finding]:
    yield from _lifecycle_findings(context, expiry_after_transitions, {"expiry-order"})


@check(
    "retention/minimum-billing",
    Severity.WARNING,
    "objects stay in a class at least its minimum billable days",
)
def minimum_billing(context: LintContext) -> Iterator[Finding]:
    yield from _lifecycle_findings(context, minimum_billing, {"minimum-billing"})


@check("retention/seven-years", Severity.ERROR, "the archive keeps logs for the 7 legal years (2557 days)")
def seven_years(context: LintContext) -> Iterator[Finding]:
    retention = context.rules.retention
    if retention is not None and retention.delete_after_days < SEVEN_YEARS_DAYS:
        yield seven_years.finding(
            retention.where("delete_after_days"),
            f"logs are deleted after {retention.delete_after_days} days, before the 7 years the law requires; "
            f"7 years is {SEVEN_YEARS_DAYS} days counting leap days",
            str(retention.delete_after_days),
        )


@check("retention/tier-order", Severity.ERROR, "hot ≤ warm ≤ deletion, in days")
def tier_order(context: LintContext) -> Iterator[Finding]:
    retention = context.rules.retention
    if retention is None:
        return
    if retention.warm.days < retention.hot.days:
        yield tier_order.finding(
            retention.warm.where("days"),
            f"warm is the total days in Datadog (standard plus Flex), so it cannot be shorter than hot "
            f"({retention.warm.days} < {retention.hot.days})",
            str(retention.warm.days),
        )
    if retention.delete_after_days < retention.warm.days:
        yield tier_order.finding(
            retention.where("delete_after_days"),
            "the archive expires logs before Datadog's own retention ends; the archive must outlive the warm tier",
            str(retention.delete_after_days),
        )


@check("retention/compliance", Severity.ERROR, "the declared compliance profiles are met")
def compliance(context: LintContext) -> Iterator[Finding]:
    retention = context.rules.retention
    if retention is None or "pci-dss-10.5.1" not in retention.compliance:
        return
    if retention.delete_after_days < PCI_KEEP_DAYS:
        yield compliance.finding(
            retention.where("delete_after_days"),
            f"PCI DSS 10.5.1 requires {PCI_KEEP_DAYS} days of audit logs; they are deleted after "
            f"{retention.delete_after_days}",
            str(retention.delete_after_days),
        )
    for slug, archive in context.rules.archives.items():
        if archive.storage_class not in REHYDRATABLE:
            yield compliance.finding(
                archive.where("storage_class"),
                f"archive '{slug}' writes {archive.storage_class}, which cannot be rehydrated without a restore; "
                "PCI DSS 10.5.1 wants the last 3 months immediately available",
                archive.storage_class,
            )
    for index, transition in enumerate(retention.cold.transitions):
        if transition.after_days < PCI_IMMEDIATE_DAYS and transition.storage_class not in REHYDRATABLE:
            yield compliance.finding(
                retention.cold.item_where("transitions", index),
                f"logs move to {transition.storage_class} at day {transition.after_days}, which needs a manual "
                f"restore before rehydration; PCI DSS 10.5.1 wants the last {PCI_IMMEDIATE_DAYS} days immediately "
                f"available — move this transition to day {PCI_IMMEDIATE_DAYS} or later, or use GLACIER_IR",
                transition.storage_class,
            )


def _is_catch_all(query: str) -> bool:
    return query.strip() in ("", "*")


@check("archive/catch-all-not-last", Severity.ERROR, "the `*` archive is the last one")
def catch_all_last(context: LintContext) -> Iterator[Finding]:
    catch_all: str | None = None
    for slug, archive in context.rules.archives.items():
        if catch_all is not None:
            yield catch_all_last.finding(
                context.rules.slug_location("archives", slug),
                f"archive '{slug}' never receives a log: logs go to the first matching archive and the catch-all "
                f"'{catch_all}' comes before it; move '{catch_all}' last",
                slug,
            )
        elif _is_catch_all(archive.query):
            catch_all = slug


@check("archive/no-catch-all", Severity.WARNING, "some archive takes every log")
def no_catch_all(context: LintContext) -> Iterator[Finding]:
    archives = context.rules.archives
    if archives and not any(_is_catch_all(a.query) for a in archives.values()):
        last = list(archives)[-1]
        yield no_catch_all.finding(
            context.rules.slug_location("archives", last),
            "no archive has the query `*`, so logs matching no archive are never archived; add a catch-all last",
            last,
        )


@check("archive/without-retention", Severity.ERROR, "archives have retention tiers to build their lifecycle from")
def without_retention(context: LintContext) -> Iterator[Finding]:
    if context.rules.archives and context.rules.retention is None:
        first = next(iter(context.rules.archives))
        yield without_retention.finding(
            context.rules.slug_location("archives", first),
            "archives are defined but no `retention:` section says how long the bucket keeps them; add one",
            first,
        )
