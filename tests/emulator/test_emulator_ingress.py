"""Raw ingress-nginx access lines through the shipped pipeline: the attributes Datadog's docs name.

The lines are as the agent collects them from the controller's stdout, with the source the controller pods'
log annotation sets (rules/ingress.yaml). Standard attributes: Datadog's "Default standard attribute list"
(DataDog/documentation `logs/log_configuration/attributes_naming_convention.md`): `network.client.ip`,
`http.method`, `http.url`, `http.status_code`, `http.useragent`, `http.referer`, `http.version`,
`network.bytes_written`, and `duration` in nanoseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from emulator_testing import shipped_rules

from logmon.emulator import Emulator
from logmon.logrecord import LogRecord

ACCESS_LOG = Path(__file__).parent / "fixtures" / "nginx-access.log"
SOURCE = "nginx-ingress-controller"


@pytest.fixture(scope="module")
def records() -> list[LogRecord]:
    emulator = Emulator(shipped_rules(), source=SOURCE)
    lines = ACCESS_LOG.read_text(encoding="utf-8").splitlines()
    return [emulator.process({"message": line}) for line in lines]


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).astimezone(UTC).timestamp()


class TestIngressAccessLog:
    def test_upstreaminfo_line(self, records: list[LogRecord]) -> None:
        """An ingress-nginx upstreaminfo line gives the standard HTTP and network attributes."""
        log = records[0]
        http = log.attributes["http"]
        assert (http["method"], http["url"], http["version"], http["status_code"]) == (
            "POST",
            "/api/payments",
            "1.1",
            201,
        )
        assert http["useragent"] == "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"
        assert http["referer"] == "https://shop.example.com/checkout"
        assert log.attributes["network"] == {"client": {"ip": "203.0.113.9"}, "bytes_written": 512}
        assert log.attributes["duration"] == pytest.approx(42_000_000)
        assert log.attributes["ingress"]["upstream"]["name"] == "payments-payment-service-80"

    def test_date_and_status_follow_the_line(self, records: list[LogRecord]) -> None:
        """The line's own time is the log's date; 2xx is ok, 5xx error, 4xx warning, 3xx notice."""
        assert records[0].timestamp == epoch("2026-01-05T00:00:30+00:00")
        assert records[3].timestamp == epoch("2026-01-05T00:01:03+01:00")
        assert [record.status for record in records[:4]] == ["ok", "error", "warning", "notice"]

    def test_retried_upstreams(self, records: list[LogRecord]) -> None:
        """A request retried on a second upstream keeps both addresses and statuses."""
        upstream = records[1].attributes["ingress"]["upstream"]
        assert upstream["address"] == "10.244.1.17:8080, 10.244.2.9:8080"
        assert upstream["status"] == "502, 502"

    def test_ipv6_client_and_query(self, records: list[LogRecord]) -> None:
        """An IPv6 client and a URL with a query string."""
        log = records[2]
        assert log.attributes["network"]["client"]["ip"] == "2001:db8::42"
        assert log.attributes["http"]["url"] == "/api/payments/7f3e?expand=refunds"

    def test_plain_combined_line(self, records: list[LogRecord]) -> None:
        """A plain nginx combined line (no upstream part) is parsed by the second rule; the user is kept."""
        log = records[3]
        assert log.attributes["http"]["auth"] == "alice"
        assert log.attributes["http"]["status_code"] == 304
        assert "duration" not in log.attributes

    def test_garbage_request_line(self, records: list[LogRecord]) -> None:
        """A TLS handshake sent to the HTTP port has no method; `-` placeholders become absent attributes."""
        log = records[4]
        assert "method" not in log.attributes["http"]
        assert log.attributes["http"]["status_code"] == 400
        assert "referer" not in log.attributes["http"]
        assert "ingress" not in log.attributes
        assert log.attributes["http"]["request_id"] == "2c3d4e5f60718293a4b5c6d7e8f90a1b"

    def test_controller_lines_are_left_alone(self, records: list[LogRecord]) -> None:
        """The controller's own (glog) lines match no rule: attributes unchanged, message kept, status info."""
        log = records[5]
        assert log.attributes == {}
        assert log.message.startswith("I0105")
        assert log.status == "info"

    def test_other_sources_are_not_parsed(self) -> None:
        """The pipeline applies only to the ingress controller's source."""
        line = ACCESS_LOG.read_text(encoding="utf-8").splitlines()[0]
        log = Emulator(shipped_rules(), source="python").process({"message": line})
        assert log.attributes == {}
