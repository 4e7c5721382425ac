"""Replay marks what it cannot know: a monitor whose search reads an attribute only Datadog computes (GeoIP)
reports how many logs it could not decide, instead of silently treating them as misses."""

from __future__ import annotations

import textwrap

import orjson

from logmon.replay import Replay, render_text
from logmon.rules.loader import rules_from_text

RULES = """
pipelines:
  geo:
    name: geo
    processors:
      - {type: geo_ip_parser, sources: [network.client.ip], target: network.client.geoip}
indexes:
  main:
    filter: "*"
monitors:
  us_errors:
    name: Errors from the US
    search: "status:error @network.client.geoip.country.iso_code:US"
    window: 5m
    threshold: {critical: 100}
  all_errors:
    name: Errors
    search: "status:error"
    window: 5m
    threshold: {critical: 100}
"""


def replayed(*documents: dict[str, object]) -> dict[str, object]:
    run = Replay(rules_from_text(textwrap.dedent(RULES), "inline.yaml"))
    return run.run(orjson.dumps(document) + b"\n" for document in documents)


def log(**fields: object) -> dict[str, object]:
    return {"timestamp": "2026-01-05T00:00:10Z", "level": "error", "message": "boom", **fields}


class TestUndecidableLogs:
    def test_logs_with_a_geoip_source_are_undecidable_for_a_search_on_its_output(self) -> None:
        """Two logs carry a client IP (GeoIP would run on them): both are undecidable for the US search."""
        report = replayed(log(network={"client": {"ip": "203.0.113.9"}}), log(network={"client": {"ip": "::1"}}), log())
        monitors = report["monitors"]
        assert isinstance(monitors, dict)
        assert monitors["us_errors"]["undecidable_logs"] == 2

    def test_a_search_that_reads_no_unknown_attribute_stays_decided(self) -> None:
        """A monitor that does not read the GeoIP output reports no undecidable logs."""
        report = replayed(log(network={"client": {"ip": "203.0.113.9"}}))
        monitors = report["monitors"]
        assert isinstance(monitors, dict)
        assert "undecidable_logs" not in monitors["all_errors"]

    def test_text_output_says_so(self) -> None:
        """The text report names the undecidable count under the monitor."""
        text = render_text(replayed(log(network={"client": {"ip": "203.0.113.9"}})))
        assert "1 log undecidable offline" in text
