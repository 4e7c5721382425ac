"""Queries over attributes only Datadog can compute are undecidable on a log, not false."""

from __future__ import annotations

from logmon.logrecord import LogRecord
from logmon.search import parse
from logmon.search.undecidable import undecidable_fields


def geoip_log() -> LogRecord:
    log = LogRecord(attributes={"network": {"client": {"ip": "203.0.113.42"}}})
    log.mark_unknown("network.client.geoip")
    return log


class TestUndecidableFields:
    def test_term_below_an_unknown_output(self) -> None:
        """A term on a field below a GeoIP target is undecidable."""
        query = parse("@network.client.geoip.country.iso_code:US @network.client.ip:*")
        assert undecidable_fields(query, geoip_log()) == ["network.client.geoip.country.iso_code"]

    def test_negated_and_repeated_terms_are_listed_once(self) -> None:
        """Negation does not make a term decidable, and a path is listed once."""
        query = parse("-@network.client.geoip.city.name:Paris OR @network.client.geoip.city.name:Lyon")
        assert undecidable_fields(query, geoip_log()) == ["network.client.geoip.city.name"]

    def test_known_fields_and_tags_are_decidable(self) -> None:
        """Terms on known attributes, tags and free text are decidable."""
        query = parse("service:web network.client.geoip:x hello @network.client.ip:203.0.113.42")
        assert undecidable_fields(query, geoip_log()) == []

    def test_a_log_without_unknowns(self) -> None:
        """A log with nothing unknown decides every query."""
        assert undecidable_fields(parse("@network.client.geoip.country.iso_code:US"), LogRecord()) == []
