"""`logmon replay FILE|-`: reads a file or standard input, prints text or JSON, and fails without tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from replay_testing import MINUTES, REPOSITORY, SHIPPED_RULES, TRAFFIC, logmon

from logmon.simulate import simulate


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The acceptance traffic written to a file, with one malformed line in the middle."""
    lines = list(simulate(MINUTES, TRAFFIC))
    path = tmp_path_factory.mktemp("replay") / "payments.ndjson"
    path.write_bytes(b"".join(lines[:100]) + b"{broken\n" + b"".join(lines[100:]))
    return path


class TestReplayCommand:
    def test_json_report_from_a_file(self, log_file: Path) -> None:
        """`--format json` prints the documented report for the file."""
        result = logmon("replay", str(log_file), "--format", "json")
        assert result.exit_code == 0, result.output
        report = orjson.loads(result.stdout)
        assert report["events"] == 261 * MINUTES + 580
        assert report["malformed"]["count"] == 1
        assert [item["line"] for item in report["malformed"]["lines"]] == [101]
        fired = {slug: r["first_alert_at"] for slug, r in report["monitors"].items() if r["fired"]}
        assert fired == {"payment_failures": "2026-01-05T00:12:00Z", "authentication_failures": "2026-01-05T00:22:00Z"}
        for result_ in report["monitors"].values():
            assert set(result_) == {"fired", "first_alert_at", "max_value", "alerts"}
        for counts in report["indexes"].values():
            assert set(counts) == {"matched", "indexed", "excluded"}
        assert report["metrics"]["logs.payment.attempts"]["total"] == 20 * MINUTES

    def test_text_report_is_the_default(self, log_file: Path) -> None:
        """Without `--format`, the report is text."""
        result = logmon("replay", str(log_file))
        assert result.exit_code == 0, result.output
        assert "payment_failures: FIRED at 2026-01-05T00:12:00Z" in result.stdout
        assert "1 malformed line skipped (line 101)" in result.stdout

    def test_standard_input(self) -> None:
        """`-` reads the lines from standard input."""
        data = b"".join(simulate(3)) + b"[not, an, object]\n"
        result = logmon("replay", "-", "--format", "json", stdin=data)
        assert result.exit_code == 0, result.output
        report = orjson.loads(result.stdout)
        assert (report["events"], report["malformed"]["count"]) == (3 * 261, 1)

    def test_missing_file_exits_2(self, tmp_path: Path) -> None:
        """A file that does not exist is a usage problem: one line on stderr, status 2."""
        result = logmon("replay", str(tmp_path / "absent.ndjson"))
        assert result.exit_code == 2
        assert result.stderr == f"logmon: no log file at {tmp_path / 'absent.ndjson'}\n"
        assert result.stdout == ""

    def test_a_directory_is_not_a_log_file(self, tmp_path: Path) -> None:
        """A directory given as the log file is refused with status 2."""
        result = logmon("replay", str(tmp_path))
        assert result.exit_code == 2
        assert "no log file" in result.stderr

    def test_missing_rules_directory_exits_2(self, log_file: Path, tmp_path: Path) -> None:
        """A `--rules` directory that does not exist is a usage problem."""
        result = logmon("replay", str(log_file), "--rules", str(tmp_path / "nowhere"))
        assert result.exit_code == 2
        assert "no rules directory" in result.stderr

    def test_invalid_rules_exit_1_with_positions(self, log_file: Path, tmp_path: Path) -> None:
        """Rules that do not load are reported with file and line, and nothing is replayed."""
        (tmp_path / "monitors.yaml").write_text("monitors:\n  broken:\n    name: x\n", encoding="utf-8")
        result = logmon("replay", str(log_file), "--rules", str(tmp_path))
        assert result.exit_code == 1
        assert "monitors.yaml:" in result.stderr
        assert result.stdout == ""

    def test_unknown_format_is_refused(self, log_file: Path) -> None:
        """An unknown `--format` is a usage error."""
        result = logmon("replay", str(log_file), "--format", "yaml")
        assert result.exit_code == 2


class TestAsAProcess:
    @staticmethod
    def run(*arguments: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "logmon.cli", "replay", *arguments, "--rules", str(SHIPPED_RULES)],
            input=stdin,
            capture_output=True,
            cwd=REPOSITORY,
            env={**os.environ, "LOGMON_DEBUG": ""},
            check=False,
            timeout=120,
        )

    def test_reads_standard_input(self) -> None:
        """The installed command reads `-` from a pipe and prints JSON."""
        completed = self.run("-", "--format", "json", stdin=b"".join(simulate(2)) + b"\n\nnot json\n")
        assert completed.returncode == 0, completed.stderr
        report = orjson.loads(completed.stdout)
        assert (report["events"], report["malformed"]["count"]) == (2 * 261, 1)

    def test_missing_file_without_traceback(self, tmp_path: Path) -> None:
        """A missing file exits 2 with one line on stderr and no traceback."""
        completed = self.run(str(tmp_path / "absent.ndjson"))
        assert completed.returncode == 2
        assert b"Traceback" not in completed.stderr
        assert completed.stderr.decode().strip().count("\n") == 0
        assert completed.stderr.startswith(b"logmon: no log file at ")


class TestReplayWording:
    def test_metrics_without_values_say_so(self) -> None:
        """A distribution metric that saw no value prints `no values`, never `max None`."""
        result = logmon("replay", "-", stdin=b"{broken\n{broken\n")
        assert result.exit_code == 0, result.output
        assert "None" not in result.stdout
        assert "no values" in result.stdout
        assert "2 malformed lines skipped (lines 1, 2)" in result.stdout

    def test_one_alert_is_singular(self, log_file: Path) -> None:
        """Counts of one take the singular noun."""
        result = logmon("replay", str(log_file))
        assert "1 alerts" not in result.stdout
        assert "1 values" not in result.stdout
