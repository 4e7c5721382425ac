"""`logmon process` on raw ingress-nginx access lines: the shipped grok pipeline gives Datadog's standard attributes.

The lines are the controller's stdout as the agent sends it to the intake, with the source the controller
pods' log annotation sets (rules/ingress.yaml). The attribute names are Datadog's "Default standard attribute
list" (DataDog/documentation `logs/log_configuration/attributes_naming_convention.md`).
"""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from logmon.cli import app

REPOSITORY = Path(__file__).resolve().parents[2]
ACCESS_LOG = REPOSITORY / "tests" / "emulator" / "fixtures" / "nginx-access.log"


def intake_lines() -> bytes:
    """Each access line as the intake receives it from the agent: message, source, host and tags."""
    return b"".join(
        orjson.dumps(
            {
                "message": line,
                "ddsource": "nginx-ingress-controller",
                "service": "ingress-nginx",
                "hostname": "node-1",
                "ddtags": "env:prod,kube_namespace:ingress-nginx",
            }
        )
        + b"\n"
        for line in ACCESS_LOG.read_text(encoding="utf-8").splitlines()
    )


def processed() -> list[dict[str, object]]:
    result = CliRunner().invoke(app, ["process", "--rules", str(REPOSITORY / "rules"), "-"], input=intake_lines())
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in result.stdout.splitlines()]


class TestNginxAccessLines:
    def test_each_line_gives_the_standard_http_attributes(self) -> None:
        """A POST answered 201 becomes method, URL, version, status code, referer, user agent, client IP, bytes."""
        documents = processed()
        assert len(documents) == len(ACCESS_LOG.read_text(encoding="utf-8").splitlines())
        first = documents[0]
        attributes = first["attributes"]
        assert isinstance(attributes, dict)
        http = attributes["http"]
        assert (http["method"], http["url"], http["version"], http["status_code"]) == (
            "POST",
            "/api/payments",
            "1.1",
            201,
        )
        assert http["referer"] == "https://shop.example.com/checkout"
        assert http["useragent"] == "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"
        assert attributes["network"]["client"]["ip"] == "203.0.113.9"
        assert attributes["network"]["bytes_written"] == 512
        assert first["source"] == "nginx-ingress-controller"
        assert first["host"] == "node-1"
        assert "env:prod" in first["tags"]

    def test_status_follows_the_status_code(self) -> None:
        """2xx is ok, 5xx error, 4xx warning, 3xx notice, as Datadog's nginx pipeline maps them."""
        assert [document["status"] for document in processed()[:4]] == ["ok", "error", "warning", "notice"]

    def test_the_message_stays_the_raw_line(self) -> None:
        """Parsing adds attributes; the message Datadog shows is still the access line."""
        first_line = ACCESS_LOG.read_text(encoding="utf-8").splitlines()[0]
        assert processed()[0]["message"] == first_line

    def test_url_and_user_agent_details(self) -> None:
        """The URL and user-agent parsers after the grok parser give `http.url_details` and `http.useragent_details`."""
        documents = processed()
        third = documents[2]["attributes"]
        assert isinstance(third, dict)
        assert third["http"]["url_details"]["path"] == "/api/payments/7f3e"
        assert third["http"]["url_details"]["queryString"] == {"expand": "refunds"}
        first = documents[0]["attributes"]
        assert isinstance(first, dict)
        assert first["http"]["useragent_details"]["browser"]["family"] == "Firefox"
