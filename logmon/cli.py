"""The `logmon` command: lint rules, print the schema and the event catalogue, plan, test and replay."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

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
) -> None:
    """Check every rule; exit 1 when any check reports an error."""
    from logmon.lint import lint_directory
    from logmon.lint.report import render

    if not rules.is_dir():
        raise usage_problem(f"no rules directory at {rules}; pass --rules DIR")
    result = lint_directory(rules)
    sys.stdout.write(render(result.findings, result.files, output_format.value))
    raise typer.Exit(1 if result.errors else 0)


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
    project: Annotated[Path, typer.Option("--project", help="The Pulumi project directory.")] = Path(),
) -> None:
    """Run the stack's Pulumi program offline and show every resource it would manage."""
    from logmon.plan.output import print_table, write_artefacts
    from logmon.plan.runner import PlanFailed, PlanUsageError, dumps, plan_document, run_plan

    try:
        result = run_plan(stack, project)
    except PlanUsageError as problem:
        raise usage_problem(str(problem)) from None
    except PlanFailed as failed:
        for message in failed.messages:
            sys.stderr.write(message + "\n")
        sys.stderr.write("logmon plan: nothing written\n")
        raise typer.Exit(1) from None
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
) -> None:
    """Run the rule tests in <rules>/tests: each case's events through the logger, pipelines and monitors."""
    from logmon.ruletest import main as run_rule_tests

    if not rules.is_dir():
        raise usage_problem(f"no rules directory at {rules}; pass --rules DIR")
    raise typer.Exit(run_rule_tests(rules, run, junit, coverage, sys.stdout))


class ReplayFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


@app.command()
def replay(
    source: Annotated[str, typer.Argument(help="A newline-delimited JSON log file, or - for standard input.")],
    rules: RulesOption = Path("rules"),
    output_format: Annotated[ReplayFormat, typer.Option("--format", help="text or json.")] = ReplayFormat.TEXT,
) -> None:
    """Replay a log file through pipelines, indexes, metrics and monitors, as Datadog would."""
    import orjson
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from logmon.diagnostics import RulesInvalid
    from logmon.replay import Replay, render_text
    from logmon.rules.loader import load_rules

    if not rules.is_dir():
        raise usage_problem(f"no rules directory at {rules}; pass --rules DIR")
    try:
        rule_set = load_rules(rules)
    except RulesInvalid as invalid:
        for finding in invalid.findings:
            typer.echo(f"{finding.location}: {finding.severity.value} {finding.check}: {finding.message}", err=True)
        raise typer.Exit(1) from None
    run = Replay(rule_set)
    if source == "-":
        report = run.run(sys.stdin.buffer)
    else:
        path = Path(source)
        if not path.is_file():
            raise usage_problem(f"no log file at {source}")
        with path.open("rb") as stream:
            if sys.stderr.isatty():
                with Progress(
                    "[progress.description]{task.description}",
                    BarColumn(),
                    DownloadColumn(),
                    TimeRemainingColumn(),
                    transient=True,
                ) as progress:
                    task = progress.add_task("replaying", total=path.stat().st_size)
                    report = run.run(stream, lambda size: progress.advance(task, size))
            else:
                report = run.run(stream)
    if output_format is ReplayFormat.JSON:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(render_text(report))


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
