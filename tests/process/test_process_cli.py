"""`logmon process`: raw intake lines in, one processed JSON object per line out, as Datadog would store them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from logmon.cli import app
from logmon.process import PROCESSED_KEYS, intake_emulator, process_line
from logmon.rules.loader import load_rules

REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED_RULES = REPOSITORY / "rules"

NGINX = {
    "message": "GET /health 200",
    "service": "ingress",
    "ddsource": "nginx",
    "ddtags": "env:prod,team:edge",
    "hostname": "node-1",
    "status": "warn",
}
PAYLOG = {
    "message": "payment done",
    "event_type": "payment_completion",
    "logger": "payments.api",
    "level": "info",
    "service": "payment-service",
    "payment_status": "failed",
    "correlation_id": "c-1",
    "note": "card 4111 1111 1111 1111 used",
}


def lines(*documents: object) -> bytes:
    return b"".join(orjson.dumps(document) + b"\n" for document in documents)


def process(*arguments: str, stdin: bytes) -> Result:
    if "--rules" not in arguments:
        arguments = (*arguments, "--rules", str(SHIPPED_RULES))
    return CliRunner().invoke(app, ["process", *arguments, "-"], input=stdin)


def outputs(result: Result) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in result.stdout.splitlines()]


class TestOutput:
    def test_one_object_per_line_with_exactly_the_documented_keys(self) -> None:
        """Each line gives message, status, service, host, source, tags, attributes, index and excluded_by."""
        result = process(stdin=lines(NGINX, PAYLOG))
        assert result.exit_code == 0, result.output
        documents = outputs(result)
        assert len(documents) == 2
        assert all(list(document) == list(PROCESSED_KEYS) for document in documents)

    def test_intake_fields_become_reserved_attributes(self) -> None:
        """`ddsource`, `ddtags`, `hostname`, `service` and `status` are read as Datadog's intake reads them."""
        (document,) = outputs(process(stdin=lines(NGINX)))
        assert (document["source"], document["host"], document["service"], document["status"]) == (
            "nginx",
            "node-1",
            "ingress",
            "warning",
        )
        assert document["tags"] == ["env:prod", "team:edge"]
        assert "ddsource" not in document["attributes"]
        assert "ddtags" not in document["attributes"]

    def test_pipelines_and_scanner_shape_the_attributes(self) -> None:
        """A paylog line leaves with the pipeline's nested attributes and the leaked card number redacted."""
        (document,) = outputs(process(stdin=lines(PAYLOG)))
        attributes = document["attributes"]
        assert isinstance(attributes, dict)
        assert attributes["logger"] == {"name": "payments.api"}
        assert attributes["note"] == "card [card number] used"
        assert "sensitive_data:card_number" in document["tags"]  # type: ignore[operator]

    def test_kept_logs_name_their_index_and_always_kept_events_are_never_excluded(self) -> None:
        """A payment completion (never sampled) is kept by `main`, with no exclusion filter."""
        (document,) = outputs(process(stdin=lines(PAYLOG)))
        assert (document["index"], document["excluded_by"]) == ("main", None)

    def test_excluded_logs_name_the_filter_and_no_index(self) -> None:
        """Routine uncorrelated lines sampled out say which filter dropped them, and index is null; with the
        dev stack's overrides (rates 0.0) none is dropped."""
        routine = [{"message": f"routine {n}", "service": "sidecar"} for n in range(30)]
        documents = outputs(process(stdin=lines(*routine)))
        dropped = [d for d in documents if d["excluded_by"] is not None]
        assert dropped
        assert all(d["excluded_by"] == "sample-routine-uncorrelated" and d["index"] is None for d in dropped)
        assert all(d["index"] == "main" for d in documents if d["excluded_by"] is None)
        dev = outputs(process("--stack", "dev", stdin=lines(*routine)))
        assert all(d["excluded_by"] is None and d["index"] == "main" for d in dev)

    def test_trace_lists_what_each_processor_changed(self) -> None:
        """`--trace` adds the preprocessing, processor and scanner steps that changed the line, in order."""
        (document,) = outputs(process("--trace", stdin=lines(PAYLOG)))
        trace = document["trace"]
        assert isinstance(trace, list)
        assert trace[0]["step"] == "preprocessing"
        remap = next(entry for entry in trace if entry.get("name") == "Logger name")
        assert remap["pipeline"] == "paylog"
        assert remap["type"] == "attribute_remapper"
        assert remap["changes"]["@logger.name"] == {"before": None, "after": "payments.api"}
        scanner = [entry for entry in trace if entry["step"] == "scanner"]
        assert [entry["processor"] for entry in scanner] == ["visa_card_4x4"]

    def test_without_trace_there_is_no_trace_key(self) -> None:
        """The trace is only there when asked for."""
        assert "trace" not in outputs(process(stdin=lines(PAYLOG)))[0]


class TestBadInput:
    def test_malformed_lines_are_reported_with_their_number_and_fail_the_run(self) -> None:
        """A line that is not a JSON object gives an error object in its place, a message on stderr naming
        the line, and exit 1 once every line is done; no traceback."""
        stdin = lines(NGINX) + b"not json\n\n[1, 2]\n" + lines(PAYLOG)
        result = CliRunner().invoke(app, ["process", "--rules", str(SHIPPED_RULES), "-"], input=stdin)
        assert result.exit_code == 1
        documents = outputs(result)
        assert [d.get("line") for d in documents] == [None, 2, 4, None]
        assert documents[2]["error"] == "expected a JSON object, got an array"
        assert "-:2: not JSON" in result.stderr
        assert "-:4:" in result.stderr
        assert "Traceback" not in result.output

    def test_unknown_stack_is_a_usage_problem(self) -> None:
        """`--stack` naming no stack file exits 2 and lists the stacks there are."""
        result = process("--stack", "nowhere", stdin=b"")
        assert result.exit_code == 2
        assert "unknown stack 'nowhere'" in result.stderr
        assert "dev" in result.stderr

    def test_missing_file_and_rules_directory(self, tmp_path: Path) -> None:
        """A missing log file or rules directory exits 2 with one line."""
        missing = CliRunner().invoke(app, ["process", "--rules", str(SHIPPED_RULES), str(tmp_path / "none.ndjson")])
        assert missing.exit_code == 2
        assert "no log file" in missing.stderr
        no_rules = CliRunner().invoke(app, ["process", "--rules", str(tmp_path / "rules"), "-"], input=b"")
        assert no_rules.exit_code == 2
        assert "no rules directory" in no_rules.stderr

    def test_rules_that_cannot_run_are_reported_at_their_line(self, tmp_path: Path) -> None:
        """A pipeline filter that does not parse stops the run with a finding at its file:line, exit 1."""
        rules = tmp_path / "rules"
        rules.mkdir()
        (rules / "p.yaml").write_text('pipelines:\n  p:\n    name: p\n    filter: "a:(b"\n', encoding="utf-8")
        result = CliRunner().invoke(app, ["process", "--rules", str(rules), "-"], input=b"{}\n")
        assert result.exit_code == 1
        assert "p.yaml:4:" in result.stderr

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.binary(max_size=60))
    def test_any_bytes_give_a_document_or_a_line_error(self, line: bytes) -> None:
        """Whatever a line holds, the result is a processed document or an error naming the line."""
        result = process_line(EMULATOR, line, 7)
        if isinstance(result, dict):
            assert list(result) == list(PROCESSED_KEYS)
        else:
            assert result.line == 7
            assert result.reason


EMULATOR = intake_emulator(load_rules(SHIPPED_RULES))


class TestCommand:
    def test_the_installed_command_reads_a_file(self, tmp_path: Path) -> None:
        """`logmon process FILE` in its own process writes one object per line and exits 0."""
        path = tmp_path / "raw.ndjson"
        path.write_bytes(lines(NGINX, PAYLOG))
        completed = subprocess.run(
            [sys.executable, "-m", "logmon.cli", "process", "--rules", str(SHIPPED_RULES), str(path)],
            capture_output=True,
            check=False,
            cwd=REPOSITORY,
        )
        assert completed.returncode == 0, completed.stderr
        assert [orjson.loads(line)["source"] for line in completed.stdout.splitlines()] == ["nginx", None]

    def test_standard_input_with_a_bad_line(self) -> None:
        """`-` reads standard input; a bad line makes the process exit 1 with its number on stderr."""
        completed = subprocess.run(
            [sys.executable, "-m", "logmon.cli", "process", "--rules", str(SHIPPED_RULES), "-"],
            input=lines(NGINX) + b"{broken\n",
            capture_output=True,
            check=False,
            cwd=REPOSITORY,
        )
        assert completed.returncode == 1
        assert b"-:2: not JSON" in completed.stderr
        assert b"Traceback" not in completed.stderr
        assert len(completed.stdout.splitlines()) == 2
