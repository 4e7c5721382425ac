"""Search queries against the attributes the logger's events really have after the pipelines."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator

from logmon.diagnostics import Finding, Severity
from logmon.emulator.preprocess import STATUSES
from logmon.lint.context import AGENT_TAG_KEYS, LintContext, QuerySite
from logmon.lint.registry import check
from logmon.search import (
    And,
    FieldKind,
    FieldTerm,
    Group,
    Node,
    Or,
    Query,
    Term,
    ambiguous_precedence,
    iter_field_terms,
)
from logmon.search.analysis import clause_values


def term_text(site: QuerySite, term: FieldTerm) -> str:
    start = min(term.field.span.start, term.span.start) if term.field.span.end else term.span.start
    return site.text[start : term.span.end]


def term_offset(term: FieldTerm) -> int:
    return min(term.field.span.start, term.span.start) if term.field.span.end else term.span.start


def terms_with_events(query: Query) -> Iterator[tuple[FieldTerm, set[str] | None]]:
    """Every field term with the event types its conjunction requires (`@event_type:x` beside it), if any.

    In `@event_type:fraud_detection @action:blok OR @x:y`, `@action` is checked against fraud_detection's
    allowed values while `@x` is checked against every event.
    """
    yield from _walk_events(query.root, None, negated=False)


def _walk_events(node: Node, events: set[str] | None, negated: bool) -> Iterator[tuple[FieldTerm, set[str] | None]]:
    while isinstance(node, Group):
        node = node.child
    if isinstance(node, And):
        required = events
        for child in node.children:
            values = clause_values(child, "event_type")
            if values is not None:
                required = values if required is None else required & values
        for child in node.children:
            yield from _walk_events(child, required, negated)
    elif isinstance(node, Or):
        for child in node.children:
            yield from _walk_events(child, events, negated)
    else:
        own = clause_values(node, "event_type") if not negated else None
        for term in iter_field_terms(node):
            yield (
                FieldTerm(term.node, term.field, term.span, term.negated != negated),
                own if own is not None else events,
            )


@check("query/syntax", Severity.ERROR, "every search query parses")
def syntax(context: LintContext) -> Iterator[Finding]:
    for site in context.queries:
        if site.error is not None:
            message = site.error.message + (f"; {site.error.hint}" if site.error.hint else "")
            yield syntax.finding(site.location(site.error.position), f"{site.what}: {message}", site.text)


@check(
    "query/tag-vs-attribute",
    Severity.ERROR,
    "a bare `key:value` searches a tag; the logger's fields are attributes (`@key`)",
)
def tag_vs_attribute(context: LintContext) -> Iterator[Finding]:
    logger_fields = context.logger_field_names
    for site in context.queries:
        if site.query is None:
            continue
        for term in iter_field_terms(site.query):
            key = term.field.path
            if term.field.kind is not FieldKind.TAG or key in AGENT_TAG_KEYS:
                continue
            if key not in logger_fields and key not in context.fields:
                continue
            text = term_text(site, term)
            value_text = text[len(key) + 1 :] if text.startswith(key + ":") else text.partition(":")[2]
            target = key
            if key not in context.fields:
                moved = sorted(context.where_renamed(key))
                target = moved[0] if moved else key
            yield tag_vs_attribute.finding(
                site.location(term_offset(term)),
                f"'{text}' searches a tag; the logger emits the attribute — use '@{target}:{value_text}'",
                text,
            )


@check(
    "query/unknown-field",
    Severity.ERROR,
    "an `@attribute` that no catalogued event has after the pipelines",
)
def unknown_field(context: LintContext) -> Iterator[Finding]:
    for site in context.queries:
        if site.query is None:
            continue
        problems = functools.partial(_attribute_problems, context, site.stage)
        for term, problem in context.per_query("unknown-field", site, problems):
            yield unknown_field.finding(
                site.location(term_offset(term)), f"{site.what}: {problem}", term_text(site, term)
            )


def _attribute_problems(context: LintContext, stage: str, query: Query) -> list[tuple[FieldTerm, str]]:
    found = []
    for term, events in terms_with_events(query):
        if term.field.kind is FieldKind.ATTRIBUTE:
            problem = attribute_problem(context, term.field.path, stage, events)
            if problem is not None:
                found.append((term, problem))
    return found


def attribute_problem(context: LintContext, path: str, stage: str, events: set[str] | None = None) -> str | None:
    """Why `@path` can never match a catalogued event's log, or None when some event has it."""
    path = path.removeprefix("@")
    if "*" in path or "?" in path:
        return None
    from logmon.lint.pipeline_checks import unknown_output_at

    if unknown_output_at(context.rules, path) is not None:
        return None  # Datadog fills it; `query/unknown-offline` says the emulator cannot
    known = dict(context.fields)
    if stage == "either":
        for name, raw_info in context.raw_fields.items():
            known.setdefault(name, raw_info)
    info = known.get(path)
    if info is not None:
        if events is None or not events.isdisjoint(info.events):
            return None
        carriers = ", ".join(sorted(e for e in info.events if e)) or "plain log lines"
        return (
            f"'@{path}' exists, but not on {', '.join(sorted(events))}; only on {carriers} — "
            "check the event type or the attribute"
        )
    if path in context.raw_fields and stage != "either":
        moved = sorted(context.where_renamed(path))
        destination = f" to '@{moved[0]}'" if moved else ""
        return f"'@{path}' is what the logger writes, but the pipeline moves it{destination}; query the new name"
    close = difflib.get_close_matches(path, list(known), n=1, cutoff=0.75)
    hint = f"; did you mean '@{close[0]}'?" if close else ""
    return f"no catalogued event has '@{path}' after the pipelines{hint}"


@check(
    "query/unknown-value",
    Severity.ERROR,
    "a value the field never takes: outside its allowed values, an uncatalogued event type, a wrong status",
)
def unknown_value(context: LintContext) -> Iterator[Finding]:
    def problems(query: Query) -> list[tuple[FieldTerm, str]]:
        found = []
        for term, events in terms_with_events(query):
            node = term.node
            if isinstance(node, Term) and not node.has_wildcards:
                problem = value_problem(context, term, node, events)
                if problem is not None:
                    found.append((term, problem))
        return found

    for site in context.queries:
        if site.query is None:
            continue
        for term, problem in context.per_query("unknown-value", site, problems):
            yield unknown_value.finding(
                site.location(term_offset(term)), f"{site.what}: {problem}", term_text(site, term)
            )


def value_problem(context: LintContext, term: FieldTerm, node: Term, events: set[str] | None) -> str | None:
    value = node.value
    if term.field.kind is FieldKind.RESERVED and term.field.path == "status":
        if value.lower() in STATUSES:
            return None
        return (
            f"status '{value}' is not a Datadog log status ({', '.join(STATUSES)}); a business status belongs in "
            "its own attribute such as '@payment_status'"
        )
    if term.field.kind is not FieldKind.ATTRIBUTE:
        return None
    path = term.field.path
    if path == "event_type":
        if value in context.catalogue:
            return None
        close = difflib.get_close_matches(value, list(context.catalogue), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"'{value}' is not a catalogued event type{hint}"
    info = context.fields.get(path)
    if info is None:
        return None
    if info.types == {"boolean"} and value not in ("true", "false"):
        return f"'@{path}' is true or false, never '{value}'"
    allowed = context.allowed_values(path, events)
    if allowed is None:
        return None
    written = {_as_text(v) for v in allowed}
    if value in written:
        return None
    close = difflib.get_close_matches(value, sorted(written), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"'@{path}' is never '{value}'; it takes {', '.join(sorted(written))}{hint}"


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@check(
    "query/ambiguous-precedence",
    Severity.WARNING,
    "AND and OR mixed without parentheses",
)
def ambiguous(context: LintContext) -> Iterator[Finding]:
    for site in context.queries:
        if site.query is None:
            continue
        for span in ambiguous_precedence(site.query):
            text = site.text[span.start : span.end]
            yield ambiguous.finding(
                site.location(span.start),
                f"{site.what}: '{text}' mixes AND and OR without parentheses; AND binds tighter, so add "
                "parentheses to say which you mean",
                text,
            )
