"""Running rule tests: load the rules and the test files, feed each case's lines through the engine, compare.

A case runs from a fixed start (`BASE_TIME`). Its lines go, in time order, through the intake (preprocessing,
pipelines, index routing and exclusion sampling) into one `Evaluation`, which evaluates every monitor at
each minute boundary. After the last line, evaluation continues to the latest expectation and on until
every window has emptied, so `quiet` covers the whole life of the case.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from logmon.diagnostics import Finding, Location, RulesInvalid, Severity
from logmon.evaluation import Evaluation, Intake
from logmon.rules.loader import RuleSet, display_name, load_rules
from logmon.rules.source import LocatedDict, load_yaml_file
from logmon.rules.validation import validate_document
from logmon.ruletest.checks import MINUTE, check_case, child
from logmon.ruletest.expectations import (
    Failure,
    StreamRouting,
    check_metric,
    check_monitor,
    check_quiet,
    check_routing,
)
from logmon.ruletest.lines import BASE_TIME, case_lines
from logmon.ruletest.model import Case, RuleTestFile, duration_microseconds
from logmon.ruletest.stacks import StackRules
from logmon.runnable import rules_findings

START_MINUTE = math.floor(BASE_TIME.timestamp() / 60)


@dataclass(frozen=True)
class LoadedCase:
    file: str
    """The test file as people read it in messages."""
    name: str
    case: Case
    location: Location
    """Where the case's name is written."""

    @property
    def id(self) -> str:
        """`<file stem>/<case name>`: what `--run` matches and JUnit reports."""
        return f"{Path(self.file).stem}/{self.name}"


@dataclass
class CaseResult:
    file: str
    name: str
    location: Location
    failures: list[Failure]
    seconds: float
    fires: frozenset[str] = frozenset()
    """Monitors the case expects to alert at some time."""
    keeps_quiet: frozenset[str] = frozenset()
    """Monitors the case expects to be OK at some time, or quiet throughout."""
    evaluation: Evaluation | None = None
    """For a failed case, the engine after its lines (each monitor's timeline), for `logmon test --html`."""
    case: Case | None = None
    """For a failed case, what it expected."""

    @property
    def id(self) -> str:
        return f"{Path(self.file).stem}/{self.name}"

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class TestReport:
    """What a run found: each case's result, or the problems that kept the tests from running."""

    __test__ = False  # not a pytest test class

    cases: list[CaseResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    """Unreadable or invalid test files (or rules); when there are any, no case ran."""
    files: list[str] = field(default_factory=list)
    rules: RuleSet | None = None
    """The rules as written, when they loaded."""

    @property
    def passed(self) -> int:
        return sum(1 for case in self.cases if case.passed)

    @property
    def failed(self) -> int:
        return sum(1 for case in self.cases if not case.passed)


def _finding(check: str, where: Location, message: str) -> Finding:
    return Finding(check, Severity.ERROR, where, message)


def rule_test_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def load_file(path: Path, rules: RuleSet, stacks: StackRules) -> tuple[list[LoadedCase], list[Finding]]:
    """The cases of one test file, or every problem found in it."""
    name = display_name(path)
    try:
        document = load_yaml_file(path, name)
    except RulesInvalid as invalid:
        return [], invalid.findings
    if document is None or (isinstance(document, dict) and not document):
        return [], [_finding("ruletest/empty-file", Location(name, 1, 1), "the file holds no tests; add `tests:`")]
    tests = child(document, "tests")
    try:
        parsed = validate_document(document, RuleTestFile, name).tests
        findings: list[Finding] = []
    except RulesInvalid as invalid:
        # Check the cases that are valid on their own too, so one run reports every problem in the file.
        findings = invalid.findings
        parsed = {}
        if isinstance(tests, LocatedDict):
            for case_name, case_document in tests.items():
                with contextlib.suppress(RulesInvalid):
                    parsed[case_name] = validate_document(case_document, Case, name)
    cases: list[LoadedCase] = []
    for case_name, case in parsed.items():
        where = tests.key_locations[case_name] if isinstance(tests, LocatedDict) else case.where()
        findings.extend(check_case(case, child(tests, case_name), rules, stacks))
        cases.append(LoadedCase(name, case_name, case, where))
    return cases, findings


def run_tests(
    rules_dir: Path, tests_dir: Path | None = None, run: str | None = None, *, project_dir: Path | None = None
) -> TestReport:
    """Load the rules and every test file under `tests_dir` (default `<rules_dir>/tests`) and run the cases.

    `run` is a regular expression searched in each case's `<file stem>/<case name>`; `project_dir` holds
    `Pulumi.<stack>.yaml` (default: the rules directory's parent). Problems in the files come back as
    findings, and then nothing runs. Raises re.error for a malformed `run`.
    """
    selector = re.compile(run) if run is not None else None
    tests_dir = tests_dir if tests_dir is not None else rules_dir / "tests"
    project_dir = project_dir if project_dir is not None else rules_dir.parent
    report = TestReport()
    try:
        rules = load_rules(rules_dir)
    except RulesInvalid as invalid:
        report.findings = invalid.findings
        return report
    except FileNotFoundError:
        report.findings = [
            _finding("ruletest/no-rules", Location(display_name(rules_dir), 1, 1), "no rules directory here")
        ]
        return report
    report.rules = rules
    report.findings = rules_findings(rules)
    if report.findings:
        return report
    if not tests_dir.is_dir():
        report.findings = [
            _finding(
                "ruletest/no-tests",
                Location(display_name(tests_dir), 1, 1),
                "no rule tests directory here; create it with one YAML file of cases per concern",
            )
        ]
        return report
    stacks = StackRules(rules, project_dir)
    loaded: list[LoadedCase] = []
    for path in rule_test_files(tests_dir):
        report.files.append(display_name(path))
        cases, findings = load_file(path, rules, stacks)
        loaded.extend(cases)
        report.findings.extend(findings)
    if not report.files:
        report.findings.append(
            _finding(
                "ruletest/no-tests",
                Location(display_name(tests_dir), 1, 1),
                "no *.yaml rule test files here; add one file of cases per concern",
            )
        )
    if report.findings:
        # A broken stack file is reported once, not once per case that uses the stack.
        report.findings = sorted(dict.fromkeys(report.findings), key=Finding.sort_key)
        return report
    intakes: dict[str | None, Intake] = {}
    for item in loaded:
        if selector is not None and selector.search(item.id) is None:
            continue
        stack_rules = stacks.get(item.case.stack, item.case.where("stack"))
        intake = intakes.get(item.case.stack)
        if intake is None:
            intake = intakes[item.case.stack] = Intake(stack_rules)
        report.cases.append(run_case(item, stack_rules, intake))
    return report


def run_case(item: LoadedCase, rules: RuleSet, intake: Intake) -> CaseResult:
    """Feed the case's lines through the engine and compare every expectation."""
    started = time.perf_counter()
    case = item.case
    evaluation = Evaluation(rules, keep_timeline=True)
    evaluation.advance_to(START_MINUTE)
    routing: dict[int, StreamRouting] = {position: StreamRouting() for position in range(len(case.events))}
    last_offset = 0
    for line in case_lines(case):
        ingested = intake.ingest(line.raw, line.sampling_key)
        if ingested.record.timestamp is None:
            ingested.record.timestamp = line.timestamp  # no date in the line: Datadog dates it on receipt
        evaluation.feed(ingested)
        decision = ingested.decision
        routing[line.stream].add(decision.index, ingested.indexed, decision.exclusion)
        last_offset = max(last_offset, line.offset)
    latest = max((duration_microseconds(e.at) for e in case.expect.monitors), default=0)
    evaluation.advance_to(START_MINUTE + max(latest, last_offset) // MINUTE + 1)
    evaluation.finish()
    failures: list[Failure] = []
    for expectation in case.expect.monitors:
        failures.extend(check_monitor(expectation, evaluation, START_MINUTE))
    for position, slug in enumerate(case.expect.quiet):
        failures.extend(check_quiet(slug, case.expect.item_where("quiet", position), evaluation, START_MINUTE))
    for metric in case.expect.metrics:
        failures.extend(check_metric(metric, evaluation))
    streams = {stream.name: position for position, stream in enumerate(case.events) if stream.name is not None}
    for routed in case.expect.routing:
        failures.extend(check_routing(routed, routing[streams[routed.events]]))
    failures.sort(key=lambda failure: failure.location)
    return CaseResult(
        item.file,
        item.name,
        item.location,
        failures,
        time.perf_counter() - started,
        fires=frozenset(e.monitor for e in case.expect.monitors if e.state == "alert"),
        keeps_quiet=frozenset([*(e.monitor for e in case.expect.monitors if e.state == "ok"), *case.expect.quiet]),
        evaluation=evaluation if failures else None,
        case=case if failures else None,
    )
