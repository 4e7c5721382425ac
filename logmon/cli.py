"""The `logmon` command: lint rules, print the schema and the event catalogue, plan, test, replay and process."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from logmon.inputs import Inputs
    from logmon.plan.recorder import Organization
    from logmon.plan.runner import Plan
    from logmon.replay import Replay
    from logmon.rules.loader import RuleSet
    from logmon.settings import Prices

app = typer.Typer(
    name="logmon",
    help="The company's Datadog log path as code: rules proven offline, then provisioned with Pulumi.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

FLAG = ""
"""The metavar of on/off options: they take no value, so help shows none (typer would print `<bool>`)."""

RulesOption = Annotated[Path, typer.Option("--rules", help="The rules directory.", file_okay=False, dir_okay=True)]


class LintFormat(StrEnum):
    TEXT = "text"
    GITHUB = "github"
    JSON = "json"


def usage_problem(message: str) -> typer.Exit:
    """Bad arguments or unreadable input: one line on stderr, exit status 2."""
    typer.echo(f"logmon: {message}", err=True)
    return typer.Exit(2)


@app.command()
def lint(
    rules: RulesOption = Path("rules"),
    output_format: Annotated[LintFormat, typer.Option("--format", help="text, github or json.")] = LintFormat.TEXT,
    stack: Annotated[
        str | None, typer.Option("--stack", help="Check only this stack's file (default: every Pulumi.<stack>.yaml).")
    ] = None,
) -> None:
    """Check every rule and every stack file's settings and overrides; exit 1 when any check reports an error."""
    from logmon.lint import lint_directory
    from logmon.lint.report import render
    from logmon.lint.stacks import lint_stacks, stack_names

    if not rules.is_dir():
        raise usage_problem(f"no rules directory at {rules}; pass --rules DIR")
    project_dir = rules.resolve().parent
    known = stack_names(project_dir)
    if stack is not None and stack not in known:
        raise usage_problem(
            f"unknown stack '{stack}': no Pulumi.{stack}.yaml beside {rules}; stacks here: {', '.join(known) or 'none'}"
        )
    stacks = [stack] if stack is not None else known
    result = lint_directory(rules)
    findings = list(result.findings)
    if result.rules is not None:
        findings += lint_stacks(result.rules, project_dir, stacks, result.findings)
    errors = sum(1 for finding in findings if finding.severity.value == "error")
    sys.stdout.write(render(findings, result.files + len(stacks), output_format.value))
    raise typer.Exit(1 if errors else 0)


@app.command()
def schema() -> None:
    """Print the JSON Schema of rules files (committed as schema/rules.schema.json)."""
    from logmon.rules.schema import schema_text

    sys.stdout.write(schema_text())


@app.command()
def catalogue() -> None:
    """Print the logger's event catalogue as JSON."""
    import orjson

    from paylog.catalogue import export

    sys.stdout.write(orjson.dumps(export(), option=orjson.OPT_INDENT_2).decode() + "\n")


ProjectOption = Annotated[Path, typer.Option("--project", help="The Pulumi project directory.")]
OrganizationOption = Annotated[
    Path | None,
    typer.Option(
        "--organization",
        help="YAML or JSON with what the Datadog org already holds: `indexes` (names) and `archives` (IDs), "
        "each in the org's current order. Default: only the `main` index.",
    ),
]


def _refused(command: str, messages: list[str]) -> typer.Exit:
    for message in messages:
        sys.stderr.write(message + "\n")
    sys.stderr.write(f"logmon {command}: nothing written\n")
    return typer.Exit(1)


def _planned(command: str, stack: str, project: Path, organization: Organization | None = None) -> Plan:
    """The stack's offline plan; a usage problem exits 2, a program that refuses to run exits 1."""
    from logmon.plan.runner import PlanFailed, PlanUsageError, run_plan

    try:
        return run_plan(stack, project, organization)
    except PlanUsageError as problem:
        raise usage_problem(str(problem)) from None
    except PlanFailed as failed:
        raise _refused(command, failed.messages) from None


def _organization(path: Path | None) -> Organization:
    """The organization the plan's data sources answer with; a bad file is a usage problem."""
    import yaml

    from logmon.plan.recorder import Organization

    if path is None:
        return Organization()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise usage_problem(f"cannot read {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise usage_problem(f"{path} is not YAML or JSON: {error}") from None
    lists = {key: document.get(key, []) for key in ("indexes", "archives")} if isinstance(document, dict) else {}
    if (
        not isinstance(document, dict)
        or set(document) - set(lists)
        or not all(isinstance(v, list) and all(isinstance(i, str) for i in v) for v in lists.values())
    ):
        raise usage_problem(f"{path}: expected a mapping with `indexes` and `archives`, each a list of strings")
    return Organization(indexes=tuple(lists["indexes"]), archives=tuple(lists["archives"]))


@app.command()
def adopt(
    stack: Annotated[str, typer.Option("--stack", help="The stack: Pulumi.<stack>.yaml supplies its settings.")],
    out: Annotated[Path, typer.Option("--out", help="Write the bulk-import file here.")],
    project: ProjectOption = Path(),
) -> None:
    """Write the `pulumi import --file` file for what the org already has (`main`, `logmon:settings.adopt`)."""
    import json

    from logmon.plan.adopt import AdoptionInvalid, import_document
    from logmon.settings import Adopt

    result = _planned("adopt", stack, project)
    try:
        document = import_document(result, Adopt.model_validate(result.settings.get("adopt") or {}))
    except AdoptionInvalid as invalid:
        raise _refused("adopt", invalid.problems) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    adopted = [entry for entry in document["resources"] if "id" in entry]
    for entry in adopted:
        sys.stdout.write(f"adopt {entry['type']} {entry['name']} (id {entry['id']})\n")
    sys.stdout.write(
        f"wrote {out}: {len(adopted)} resource(s) to import; next: "
        f"pulumi import --stack {stack} --file {out} --generate-code=false\n"
    )


class DiffFormat(StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    JSON = "json"


@app.command()
def plan(
    stack: Annotated[str, typer.Option("--stack", help="The stack: Pulumi.<stack>.yaml supplies its settings.")],
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the plan as sorted JSON here.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write Datadog, Kubernetes and AWS documents under this directory.")
    ] = None,
    project: ProjectOption = Path(),
    organization: OrganizationOption = None,
) -> None:
    """Run the stack's Pulumi program offline and show every resource it would manage."""
    from logmon.plan.output import print_table, write_artefacts
    from logmon.plan.runner import dumps, plan_document

    result = _planned("plan", stack, project, _organization(organization))
    print_table(result, sys.stdout)
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(dumps(plan_document(result)), encoding="utf-8")
    if out is not None:
        written = write_artefacts(result, out)
        sys.stdout.write(f"wrote {len(written)} files under {out}\n")


@app.command()
def diff(
    base: Annotated[Path, typer.Argument(help="The base plan (logmon plan --json).", exists=False)],
    head: Annotated[Path, typer.Argument(help="The new plan.")],
    output_format: Annotated[DiffFormat, typer.Option("--format", help="text, markdown or json.")] = DiffFormat.TEXT,
    exit_code: Annotated[bool, typer.Option("--exit-code", help="Exit 1 when the plans differ.", metavar=FLAG)] = False,
) -> None:
    """Compare two plans: resources added, removed, changed and replaced, protected deletions first."""
    import orjson

    from logmon.plan.diff import diff as compare
    from logmon.plan.diff import render_markdown, render_text, to_json

    documents = []
    for path in (base, head):
        try:
            documents.append(orjson.loads(path.read_bytes()))
        except OSError as error:
            raise usage_problem(f"cannot read {path}: {error.strerror}") from None
        except orjson.JSONDecodeError as error:
            raise usage_problem(f"{path} is not a plan (invalid JSON: {error})") from None
        if not isinstance(documents[-1], dict) or "resources" not in documents[-1]:
            raise usage_problem(f"{path} is not a plan written by `logmon plan --json`")
    result = compare(documents[0], documents[1])
    if output_format is DiffFormat.MARKDOWN:
        sys.stdout.write(render_markdown(result))
    elif output_format is DiffFormat.JSON:
        sys.stdout.write(orjson.dumps(to_json(result), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(render_text(result))
    raise typer.Exit(1 if exit_code and result.resources else 0)


@app.command(name="test")
def rule_tests(
    rules: RulesOption = Path("rules"),
    run: Annotated[str | None, typer.Option("--run", help="Only cases whose id matches this regex.")] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML here.")] = None,
    coverage: Annotated[
        bool,
        typer.Option("--coverage", help="List monitors without a firing and a quiet case; gaps fail.", metavar=FLAG),
    ] = False,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Write a page charting each failed case's monitors, expected against actual."),
    ] = None,
) -> None:
    """Run the rule tests in <rules>/tests: each case's events through the logger, pipelines and monitors."""
    from logmon.ruletest import main as run_rule_tests

    if not rules.is_dir():
        raise usage_problem(f"no rules directory at {rules}; pass --rules DIR")
    raise typer.Exit(run_rule_tests(rules, run, junit, coverage, sys.stdout, html=html))


class ReplayFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def _rules_or_exit(rules: Path, stack: str | None = None) -> tuple[RuleSet, Prices]:
    """The rules of a directory (with the stack's overrides) and the stack's prices; invalid rules, or rules
    the engine cannot run, are printed as findings and exit 1."""
    from logmon.diagnostics import RulesInvalid
    from logmon.runnable import rules_findings

    if not rules.is_dir():
        raise usage_problem(f"no rules directory at {rules}; pass --rules DIR")
    try:
        rule_set, prices = _replayed_rules(rules, stack)
        findings = rules_findings(rule_set)  # rules that load but that the engine cannot run
    except RulesInvalid as invalid:
        findings, prices = invalid.findings, None
    for finding in findings:
        typer.echo(f"{finding.location}: {finding.severity.value} {finding.check}: {finding.message}", err=True)
    if findings or prices is None:
        raise typer.Exit(1)
    return rule_set, prices


@app.command()
def replay(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Log files (.gz too), directories, globs, - for standard input, or s3://bucket/prefix of a Datadog "
            "archive (dt=YYYYMMDD/hour=HH/archive_*.json.gz).",
            show_default=False,
        ),
    ],
    rules: RulesOption = Path("rules"),
    output_format: Annotated[
        ReplayFormat, typer.Option("--format", help="text, json, or markdown (Mermaid charts, for a pull request).")
    ] = ReplayFormat.TEXT,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML report with charts here.")
    ] = None,
    compare: Annotated[
        Path | None,
        typer.Option(
            "--compare",
            help="Base rules directory: replay the same logs through both and report the monitors that change.",
            file_okay=False,
        ),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="Replay pieces of the input on this many processes.")] = 1,
    cluster: Annotated[
        str | None,
        typer.Option("--cluster", help="Replay on the Dask scheduler at this address (tcp://host:8786)."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First archive hour to read, UTC (2026-01-05 or 2026-01-05T13).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="First archive hour not read, UTC.")] = None,
    stack: Annotated[
        str | None,
        typer.Option("--stack", help="Replay the rules as this stack deploys them, priced with its `prices`."),
    ] = None,
) -> None:
    """Replay logs through pipelines, indexes, metrics and monitors, as Datadog would, and say what they cost."""
    from logmon.inputs import InputProblem, hour_range, resolve
    from logmon.replay import Replay
    from logmon.report.collect import ChartedEvaluation

    rule_set, prices = _rules_or_exit(rules, stack)
    base_rules, base_prices = _rules_or_exit(compare, stack) if compare is not None else (None, None)
    if base_rules is not None and (jobs > 1 or cluster is not None):
        raise usage_problem("--compare replays one input through two rule sets in one process; drop --jobs/--cluster")
    charts = html is not None or output_format is ReplayFormat.MARKDOWN or base_rules is not None
    try:
        inputs = resolve(sources, hour_range(start, end))
    except InputProblem as problem:
        raise usage_problem(str(problem)) from None
    run = Replay(rule_set, prices, charts=ChartedEvaluation.of if charts else None)
    base = Replay(base_rules, base_prices, charts=ChartedEvaluation.of) if base_rules is not None else None
    try:
        if cluster is not None or jobs > 1:
            report = _replay_in_pieces(run, inputs, jobs, cluster)
        else:
            report = _replay_with_progress(run, inputs, base)
    except InputProblem as problem:
        raise usage_problem(str(problem)) from None
    if charts:
        from logmon.report.outputs import ReplayRun, write_reports

        shown = " ".join(sources)
        base_run = None
        if base is not None and base_rules is not None and compare is not None:
            base_run = ReplayRun(shown, compare, base_rules, base, base.report())
        head_run = ReplayRun(shown, rules, rule_set, run, report)
        sys.stdout.write(write_reports(head_run, base_run, output_format.value, html))
    else:
        _print_replay(report, output_format)


def _replay_in_pieces(run: Replay, inputs: Inputs, jobs: int, cluster: str | None) -> dict[str, Any]:
    """`--jobs N` or `--cluster ADDRESS`: the sources cut into pieces, replayed apart, merged, evaluated once."""
    from logmon.inputs import STANDARD_INPUT
    from logmon.parallel import ClusterUnavailable, replay_cluster, replay_jobs

    if any(source.location == STANDARD_INPUT for source in inputs.sources):
        raise usage_problem(
            "standard input cannot be cut into pieces; give a file (or several) for --jobs or --cluster"
        )
    charts = run.part.hours is not None
    try:
        part = (
            replay_cluster(run.rules, inputs.sources, cluster, charts=charts)
            if cluster is not None
            else replay_jobs(run.rules, inputs.sources, jobs, charts=charts)
        )
    except ClusterUnavailable as unavailable:
        raise usage_problem(str(unavailable)) from None
    run.inputs = inputs
    return run.report(part)


def _replayed_rules(rules: Path, stack: str | None) -> tuple[RuleSet, Prices]:
    """The rules (with the stack's overrides) and the price table; RulesInvalid at the stack file's lines."""
    from logmon.lint.stacks import stack_names
    from logmon.rules.loader import apply_overrides, load_rules
    from logmon.settings import Prices, read_stack_file

    rule_set = load_rules(rules)
    if stack is None:
        return rule_set, Prices()
    project_dir = rules.resolve().parent
    known = stack_names(project_dir)
    if stack not in known:
        raise usage_problem(
            f"unknown stack '{stack}': no Pulumi.{stack}.yaml beside {rules}; stacks here: {', '.join(known) or 'none'}"
        )
    settings, overrides = read_stack_file(stack, project_dir)
    return apply_overrides(rule_set, overrides), settings.prices


def _replay_with_progress(run: Replay, inputs: Inputs, base: Replay | None = None) -> dict[str, Any]:
    """Replay every source (to `base` too, from the same read), with a progress bar when stderr is a terminal."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    alongside = (base,) if base is not None else ()
    if not sys.stderr.isatty() or inputs.location == "stdin":
        return run.run_inputs(inputs, alongside=alongside)
    with Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn(), transient=True
    ) as progress:
        task = progress.add_task("replaying", total=inputs.known_size)
        return run.run_inputs(inputs, lambda size: progress.advance(task, size), alongside)


def _print_replay(report: dict[str, Any], output_format: ReplayFormat) -> None:
    import orjson

    from logmon.replay import render_text

    if output_format is ReplayFormat.JSON:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(render_text(report))


@app.command()
def process(
    source: Annotated[str, typer.Argument(help="Raw logs, one JSON object per line, or - for standard input.")],
    rules: RulesOption = Path("rules"),
    stack: Annotated[
        str | None, typer.Option("--stack", help="Apply this stack's overrides (Pulumi.<stack>.yaml beside the rules).")
    ] = None,
    trace: Annotated[
        bool, typer.Option("--trace", help="Add what each pipeline processor and scanner rule changed.", metavar=FLAG)
    ] = False,
) -> None:
    """Show what Datadog would store for each raw log: preprocessing, pipelines, scanner, index and exclusion."""
    from logmon.diagnostics import Location, RulesInvalid
    from logmon.lint.stacks import stack_names
    from logmon.process import LineError, dumps, intake_emulator, process_lines
    from logmon.rules.loader import load_rules
    from logmon.ruletest.stacks import StackRules
    from logmon.runnable import rules_findings

    if not rules.is_dir():
        raise usage_problem(f"no rules directory at {rules}; pass --rules DIR")
    project_dir = rules.resolve().parent
    if stack is not None and stack not in (known := stack_names(project_dir)):
        raise usage_problem(
            f"unknown stack '{stack}': no Pulumi.{stack}.yaml beside {rules}; stacks here: {', '.join(known) or 'none'}"
        )
    if source != "-" and not Path(source).is_file():
        raise usage_problem(f"no log file at {source}")
    try:
        rule_set = load_rules(rules)
        problems = rules_findings(rule_set)
        if not problems and stack is not None:
            rule_set = StackRules(rule_set, project_dir).get(stack, Location(f"Pulumi.{stack}.yaml", 1, 1))
    except RulesInvalid as invalid:
        problems = invalid.findings
    if problems:
        for finding in problems:
            typer.echo(f"{finding.location}: {finding.severity.value} {finding.check}: {finding.message}", err=True)
        raise typer.Exit(1)
    emulator = intake_emulator(rule_set)
    failed = 0
    out = sys.stdout.buffer

    def run(lines: Iterable[bytes]) -> None:
        nonlocal failed
        for result in process_lines(emulator, lines, trace=trace):
            if isinstance(result, LineError):
                failed += 1
                sys.stderr.write(f"logmon process: {source}:{result.line}: {result.reason}\n")
                out.write(dumps(result.to_json()))
            else:
                out.write(dumps(result))

    if source == "-":
        run(sys.stdin.buffer)
    else:
        with Path(source).open("rb") as stream:
            run(stream)
    out.flush()
    if failed:
        sys.stderr.write(f"logmon process: {failed} line(s) could not be processed\n")
        raise typer.Exit(1)


# `logmon stack init|check|cluster`: the stack bootstrap and CI's pre-flight check (logmon/stack.py).
from logmon.stack import stack_app  # noqa: E402  (registered here, apart from the commands above)

app.add_typer(stack_app, name="stack")


def main() -> None:
    """Entry point: usage problems exit 2 with one line; unexpected failures too, unless LOGMON_DEBUG is set."""
    try:
        app()
    except OSError as error:
        sys.stderr.write(f"logmon: {error.strerror or error}: {error.filename or ''}\n".replace(": \n", "\n"))
        sys.exit(2)
    except Exception as error:
        if os.environ.get("LOGMON_DEBUG"):
            raise
        sys.stderr.write(f"logmon: internal error: {type(error).__name__}: {error} (set LOGMON_DEBUG=1 for details)\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
