"""Sensitive Data Scanner rules: keyed by slug, and scoped away from the IDs that link logs to traces."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from logmon.diagnostics import Finding, RulesInvalid
from logmon.rules import load_rules, parse_rules_text
from logmon.rules.model import ScannerScope, SensitiveDataScanner

OLD_CARD_REGEX = r"\b(?:\d[ -]?){12,18}\d\b"
"""The card-number rule shipped before: any 13 to 19 digits, no checksum, over every attribute."""
SHIPPED_RULES = Path(__file__).resolve().parents[2] / "rules"
SPAN_ID = "5227843308065000149"
"""A span ID as ddtrace writes it into `dd.span_id`: a 64-bit integer in decimal (here 19 digits)."""


def shipped_scanner() -> SensitiveDataScanner:
    scanner = load_rules(SHIPPED_RULES).sensitive_data
    assert scanner is not None
    return scanner


class TestTheOldCardRegex:
    def test_it_matched_a_realistic_span_id(self) -> None:
        """The old regex takes a 19-digit `dd.span_id` for a card number."""
        assert re.search(OLD_CARD_REGEX, SPAN_ID)

    def test_it_matched_about_half_of_all_span_ids(self) -> None:
        """Span IDs are uniform 64-bit integers; every one of 19 digits or fewer (about 54 %) matched."""
        generator = random.Random(9)
        ids = [str(generator.getrandbits(64)) for _ in range(4_000)]
        share = sum(bool(re.search(OLD_CARD_REGEX, span_id)) for span_id in ids) / len(ids)
        assert share == pytest.approx(1e19 / 2**64, abs=0.03)


class TestShippedScanner:
    def test_no_rule_scans_trace_or_span_ids(self) -> None:
        """With the shipped group's exclusions, no rule applies to `dd.span_id` or `dd.trace_id`."""
        scanner = shipped_scanner()
        for slug in scanner.rules:
            scope = scanner.scope(slug)
            assert not scope.covers("dd.span_id"), slug
            assert not scope.covers("@dd.trace_id"), slug
            assert scope.covers("http.request.body"), slug

    def test_card_numbers_use_luhn_checked_library_rules(self) -> None:
        """Card numbers are found by Datadog's library rules, not by a bare digits regex."""
        scanner = shipped_scanner()
        cards = {slug: rule for slug, rule in scanner.rules.items() if "sensitive_data:card_number" in rule.tags}
        assert cards
        assert all(rule.library_rule is not None and rule.regex is None for rule in cards.values())


class TestScope:
    def test_excluded_namespaces_cover_everything_below(self) -> None:
        """Excluding `dd` leaves `dd.span_id` and `dd.trace_id` unscanned but not `ddx` or `http.dd`."""
        scope = ScannerScope(excluded=("dd",))
        assert not scope.covers("dd")
        assert not scope.covers("dd.span_id")
        assert scope.covers("ddx")
        assert scope.covers("http.dd")

    def test_namespaces_restrict_the_scan(self) -> None:
        """With namespaces, only attributes inside them are scanned, minus the excluded ones."""
        scope = ScannerScope(namespaces=("http.request",), excluded=("http.request.headers",))
        assert scope.covers("http.request.body")
        assert not scope.covers("http.request.headers.cookie")
        assert not scope.covers("message")

    def test_group_exclusions_outside_a_rules_namespaces_are_left_out(self) -> None:
        """Datadog wants exclusions inside the rule's namespaces, so the group's `dd` is dropped for such a rule."""
        rules = parse_rules_text(
            """\
sensitive_data:
  name: g
  filter: "*"
  excluded_namespaces: [dd, http.request.headers]
  rules:
    body:
      name: body
      regex: secret
      replacement: {type: hash}
      namespaces: [http.request]
      excluded_namespaces: [http.request.query]
""",
            "rules/sensitive-data.yaml",
        )
        assert rules.sensitive_data is not None
        scope = rules.sensitive_data.scope("body")
        assert scope == ScannerScope(
            namespaces=("http.request",), excluded=("http.request.headers", "http.request.query")
        )


def refused(first_rule_line: str) -> list[Finding]:
    """The findings for a scanner whose one rule starts with `first_rule_line`."""
    text = (
        'sensitive_data:\n  name: g\n  filter: "*"\n  rules:\n'
        + first_rule_line
        + "      name: c\n      regex: x\n      replacement: {type: hash}\n"
    )
    if first_rule_line.lstrip().startswith("-"):
        text = text.replace("      name: c\n", "")
    with pytest.raises(RulesInvalid) as raised:
        parse_rules_text(text, "rules/sensitive-data.yaml")
    return raised.value.findings


class TestRulesBySlug:
    def test_a_list_of_rules_is_refused(self) -> None:
        """Rules are a mapping from slug to rule; the old list form points at `rules` and says a mapping is due."""
        (finding,) = refused("    - name: email\n")
        assert str(finding.location).startswith("rules/sensitive-data.yaml:5:")
        assert "mapping" in finding.message

    def test_a_slug_must_name_a_resource(self) -> None:
        """A slug with spaces or capitals is refused, as it names the Pulumi resource."""
        (finding,) = refused("    Card Numbers:\n")
        assert finding.text == "Card Numbers"
