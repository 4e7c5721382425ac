"""Whatever text a rules file holds, loading it gives rules or findings, and `logmon lint` exits 0, 1 or 2
with a report, never a traceback."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logmon.diagnostics import Finding, RulesInvalid
from logmon.rules import parse_rules_text
from logmon.rules.model import RulesFile
from logmon.rules.schema import rules_schema

REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED_DIRECTORY = REPOSITORY / "rules"
SHIPPED = {path.name: path.read_text(encoding="utf-8") for path in sorted(SHIPPED_DIRECTORY.glob("*.yaml"))}
SUMMARY = re.compile(r"(no problems|\d+ problems? \(.+\)) in \d+ files?")
RunLogmon = Callable[[list[str]], tuple[int, str, str]]


def schema_keys(node: Any) -> Iterator[str]:
    """Every property name in the rules schema, so generated documents often look like rules."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                yield from value
            yield from schema_keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from schema_keys(item)


KEYS = sorted(set(schema_keys(rules_schema())))
SECTIONS = ["monitors", "pipelines", "indexes", "metrics", "retention", "archives", "sensitive_data"]
WORDS = [
    "5m",
    "72h",
    "count",
    "cardinality",
    "per_minute",
    ">",
    "*",
    "@event_type:payment_completion",
    "event_type:payment_completion",
    "status:(error OR",
    "status_remapper",
    "attribute_remapper",
    "grok_parser",
    "STANDARD_IA",
    "DEEP_ARCHIVE",
    "distribution",
    "@processing_time_ms",
    "pci-dss-10.5.1",
    "hash",
    "main",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(WORDS)
)
keys = st.sampled_from(KEYS) | st.text(max_size=8) | st.integers(min_value=-3, max_value=3) | st.booleans()
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)
rule_documents = st.dictionaries(st.sampled_from(SECTIONS) | keys, documents, max_size=4) | documents

FRAGMENTS = [
    ":",
    ": ",
    "- ",
    "  ",
    "\n",
    "\t",
    "'",
    '"',
    "&a ",
    "*a",
    "<<: *a\n",
    "{",
    "}",
    "[",
    "]",
    "#",
    "@",
    "yes:",
    "1: ",
    "---\n",
    "...\n",
    "!!binary ",
    "!!python/object:os.system ",
    "|\n",
    ">-\n",
    "\x00",
    "\x85",
    "\ufeff",
    "%YAML 1.1\n",
    "2024-13-45",
]


@st.composite
def mutated_rules(draw: st.DrawFn) -> tuple[str, str]:
    """(file name, text): a shipped rules file with a few random edits."""
    name = draw(st.sampled_from(sorted(SHIPPED)))
    text = SHIPPED[name]
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        edit = draw(st.sampled_from(["insert", "delete", "replace", "drop-line", "copy-line", "swap-lines"]))
        lines = text.split("\n")
        if edit in ("insert", "delete", "replace"):
            start = draw(st.integers(min_value=0, max_value=len(text)))
            end = min(len(text), start + draw(st.integers(min_value=0, max_value=12)))
            piece = draw(st.sampled_from(FRAGMENTS) | st.text(max_size=6)) if edit != "delete" else ""
            text = text[:start] + piece + text[end if edit != "insert" else start :]
        else:
            first = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            second = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            if edit == "drop-line":
                del lines[first]
            elif edit == "copy-line":
                lines.insert(second, lines[first])
            else:
                lines[first], lines[second] = lines[second], lines[first]
            text = "\n".join(lines)
    return name, text


def assert_rules_or_findings(text: str, file_name: str) -> None:
    """Loading gives a RulesFile, or RulesInvalid whose findings each say where and what."""
    findings: list[Finding] = []
    try:
        result: RulesFile | None = parse_rules_text(text, file_name)
    except RulesInvalid as invalid:
        result, findings = None, invalid.findings
    if result is not None:
        assert isinstance(result, RulesFile)
    else:
        assert findings
        last_line = sum(text.count(brk) for brk in ("\n", "\r", "\x85", "\u2028", "\u2029")) + 2
        for finding in findings:
            assert finding.location.file == file_name
            assert 1 <= finding.location.line <= last_line, finding
            assert finding.location.column >= 1, finding
            assert finding.check.count("/") == 1
            assert finding.message.strip()


def dump(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


class TestLoaderNeverCrashes:
    @given(st.text())
    @settings(max_examples=200, deadline=None)
    def test_arbitrary_text(self, text: str) -> None:
        """Any text at all loads or is explained by findings."""
        assert_rules_or_findings(text, "rules/fuzz.yaml")

    @given(rule_documents)
    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def test_arbitrary_yaml_documents(self, document: Any) -> None:
        """Any YAML document, of any shape and with rule-like keys, loads or is explained by findings."""
        assert_rules_or_findings(dump(document), "rules/fuzz.yaml")

    @given(st.sampled_from(SECTIONS), st.dictionaries(st.sampled_from(KEYS), documents, max_size=6))
    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def test_sections_with_arbitrary_entries(self, section: str, entry: dict[str, Any]) -> None:
        """A section holding one arbitrary entry (or being it) loads or is explained by findings."""
        assert_rules_or_findings(dump({section: {"fuzzed": entry}}), "rules/fuzz.yaml")
        assert_rules_or_findings(dump({section: entry}), "rules/fuzz.yaml")

    @given(mutated_rules())
    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def test_mutated_shipped_files(self, mutated: tuple[str, str]) -> None:
        """A shipped file with random edits loads or is explained by findings."""
        name, text = mutated
        assert_rules_or_findings(text, f"rules/{name}")


class TestLintCommandNeverCrashes:
    @given(mutated_rules())
    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def test_lint_on_a_mutated_rules_directory(self, run_logmon: RunLogmon, mutated: tuple[str, str]) -> None:
        """`logmon lint` over shipped rules with one file mutated exits 0, 1 or 2 with a report, never a crash."""
        name, text = mutated
        with tempfile.TemporaryDirectory() as temporary:
            directory = Path(temporary) / "rules"
            shutil.copytree(SHIPPED_DIRECTORY, directory)
            (directory / name).write_text(text, encoding="utf-8")
            code, stdout, stderr = run_logmon(["lint", "--rules", str(directory)])
        assert code in (0, 1, 2)
        assert "Traceback" not in stdout + stderr
        assert "internal error" not in stderr
        if code in (0, 1):
            assert SUMMARY.fullmatch(stdout.splitlines()[-1]), stdout
        if code == 1:
            assert ": error " in stdout

    @given(rule_documents, st.sampled_from(["text", "github", "json"]))
    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def test_lint_on_an_arbitrary_document(self, run_logmon: RunLogmon, document: Any, output_format: str) -> None:
        """`logmon lint` over a directory holding one arbitrary document answers in the asked format."""
        with tempfile.TemporaryDirectory() as temporary:
            directory = Path(temporary)
            (directory / "fuzz.yaml").write_text(dump(document), encoding="utf-8")
            code, stdout, stderr = run_logmon(["lint", "--rules", str(directory), "--format", output_format])
        assert code in (0, 1, 2)
        assert "Traceback" not in stdout + stderr
        assert "internal error" not in stderr
