"""The Sensitive Data Scanner in the emulator: after the pipelines, on message and string attributes, with
each rule's scope, action and tags, and Datadog's library card rules reproduced offline."""

from __future__ import annotations

import copy
import textwrap
from typing import Any

import pytest
import yaml
from emulator_testing import rules_from_yaml, shipped_rules
from hypothesis import given, settings
from hypothesis import strategies as st

from logmon.emulator import Emulator
from logmon.emulator.scanner import ScannerRuleInvalid
from logmon.emulator.scanner_library import LIBRARY, luhn_valid

VISA = "4111 1111 1111 1111"
"""A Visa test number: issuer prefix 4 and a valid Luhn checksum."""


def scanner_rules(rules: str, *, filter_: str = "*", excluded: str = "[]", pipelines: str = "") -> Emulator:
    """An emulator with one scanning group holding `rules` (YAML of the `rules:` mapping)."""
    group = {
        "name": "test group",
        "filter": filter_,
        "excluded_namespaces": yaml.safe_load(excluded),
        "rules": yaml.safe_load(rules),
    }
    document = yaml.safe_load(textwrap.dedent(pipelines)) or {}
    document["sensitive_data"] = group
    return Emulator(rules_from_yaml(yaml.safe_dump(document)))


def processed(emulator: Emulator, raw: dict[str, Any]) -> Any:
    return emulator.process(dict(raw))


EMAIL_RULE = """
email:
  name: emails
  regex: '[a-z]+@[a-z]+\\.com'
  replacement: {type: replacement_string, replacement_string: "[email]"}
  tags: ["sensitive_data:email"]
"""


class TestActions:
    """Each documented action on a match (Datadog's scanner library, `match_action.rs`)."""

    def test_replacement_string_replaces_the_whole_match(self) -> None:
        """Redact replaces the matched text, and only it, with the replacement string."""
        log = processed(scanner_rules(EMAIL_RULE), {"message": "mail jane@example.com now"})
        assert log.message == "mail [email] now"

    def test_hash_is_farmhash_fingerprint64_in_hex(self) -> None:
        """Hash gives the same value Datadog's scanner library gives for `coty` (its own test vector)."""
        emulator = scanner_rules("name:\n  name: names\n  regex: coty\n  replacement: {type: hash}")
        assert processed(emulator, {"message": "rene coty"}).message == "rene fdf7528ad7f83901"

    @pytest.mark.parametrize(
        ("kind", "count", "expected"),
        [
            ("partial_replacement_from_beginning", 3, "id ***456 end"),
            ("partial_replacement_from_end", 2, "id 1234** end"),
            ("partial_replacement_from_end", 9, "id ****** end"),
        ],
    )
    def test_partial_redaction_masks_characters_with_stars(self, kind: str, count: int, expected: str) -> None:
        """Partial redaction masks the first or last N characters of a match (all of it when shorter)."""
        emulator = scanner_rules(
            f"num:\n  name: numbers\n  regex: '[0-9]{{6}}'\n  replacement: {{type: {kind}, number_of_chars: {count}}}"
        )
        assert processed(emulator, {"message": "id 123456 end"}).message == expected

    def test_tags_are_added_only_when_the_rule_changed_the_log(self) -> None:
        """The rule's tags mark a log it redacted; a clean log gets none."""
        emulator = scanner_rules(EMAIL_RULE)
        assert "sensitive_data:email" in processed(emulator, {"message": "jane@example.com"}).tags
        assert "sensitive_data:email" not in processed(emulator, {"message": "nothing here"}).tags


class TestWhatIsScanned:
    def test_nested_and_array_string_attributes_are_scanned(self) -> None:
        """String values at any depth, inside arrays too, are scanned."""
        log = processed(scanner_rules(EMAIL_RULE), {"usr": {"emails": ["a@b.com", "x"]}, "note": "c@d.com"})
        assert log.attributes == {"usr": {"emails": ["[email]", "x"]}, "note": "[email]"}

    def test_numbers_and_booleans_are_not_scanned(self) -> None:
        """Datadog does not scan integer, float or boolean values, only strings."""
        emulator = scanner_rules("num:\n  name: n\n  regex: '[0-9]+'\n  replacement: {type: hash}")
        log = processed(emulator, {"count": 123456, "ratio": 1.5, "flag": True, "text": "7"})
        assert (log.attributes["count"], log.attributes["ratio"], log.attributes["flag"]) == (123456, 1.5, True)
        assert log.attributes["text"] != "7"

    def test_tags_are_not_scanned(self) -> None:
        """Tags are never scanned (Datadog: remap a tag to an attribute to scan it)."""
        log = processed(scanner_rules(EMAIL_RULE), {"message": "x", "ddtags": "owner:jane@example.com"})
        assert "owner:jane@example.com" in log.tags

    def test_platform_reserved_attributes_are_never_redacted(self) -> None:
        """`dd.trace_id`, `host`, `date` and the other documented reserved attributes stay intact."""
        emulator = scanner_rules("num:\n  name: n\n  regex: '[0-9]{5,}'\n  replacement: {type: hash}")
        raw = {"dd": {"trace_id": "123456789", "span_id": "987654321"}, "date": "20260105", "other": "123456"}
        log = processed(emulator, raw)
        assert log.attributes["dd"] == {"trace_id": "123456789", "span_id": "987654321"}
        assert log.attributes["date"] == "20260105"
        assert log.attributes["other"] != "123456"

    def test_group_excluded_namespaces_are_skipped(self) -> None:
        """An attribute under the group's `excluded_namespaces` is not scanned."""
        log = processed(
            scanner_rules(EMAIL_RULE, excluded="[contact]"), {"contact": {"mail": "a@b.com"}, "n": "a@b.com"}
        )
        assert log.attributes == {"contact": {"mail": "a@b.com"}, "n": "[email]"}

    def test_rule_namespaces_limit_the_scan(self) -> None:
        """A rule with `namespaces` scans only those attributes, not the message."""
        emulator = scanner_rules(EMAIL_RULE + "  namespaces: [usr]")
        log = processed(emulator, {"message": "a@b.com", "usr": {"mail": "a@b.com"}, "other": "a@b.com"})
        assert (log.message, log.attributes["usr"]["mail"], log.attributes["other"]) == (
            "a@b.com",
            "[email]",
            "a@b.com",
        )

    def test_the_group_filter_selects_the_logs(self) -> None:
        """Logs outside the scanning group's filter are left alone."""
        emulator = scanner_rules(EMAIL_RULE, filter_="service:web")
        assert processed(emulator, {"message": "a@b.com", "service": "web"}).message == "[email]"
        assert processed(emulator, {"message": "a@b.com", "service": "db"}).message == "a@b.com"

    def test_scanning_runs_after_the_pipelines(self) -> None:
        """The scanner sees attributes as the pipelines left them: a remapped attribute is scanned where it
        lands, and the group filter matches the remapped value."""
        pipelines = """
            pipelines:
              remap:
                name: remap
                processors:
                  - {type: attribute_remapper, sources: [mail], target: usr.email}
        """
        emulator = scanner_rules(EMAIL_RULE + "  namespaces: [usr.email]", filter_="@usr.email:*", pipelines=pipelines)
        assert processed(emulator, {"mail": "a@b.com"}).attributes == {"usr": {"email": "[email]"}}

    def test_an_invalid_regex_is_refused_unless_lenient(self) -> None:
        """A regex that does not compile raises for the engine; lint's lenient emulator skips the rule."""
        text = """
            sensitive_data:
              name: g
              filter: "*"
              rules:
                bad: {name: bad, regex: "([", replacement: {type: hash}}
        """
        with pytest.raises(ScannerRuleInvalid):
            Emulator(rules_from_yaml(text))
        assert Emulator(rules_from_yaml(text), lenient=True).process({"message": "(["}).message == "(["


def visa_rule(name: str) -> str:
    replacement = '{type: replacement_string, replacement_string: "[card]"}'
    return f'card:\n  name: cards\n  library_rule: "{name}"\n  replacement: {replacement}'


class TestLibraryCardRules:
    """Datadog's library card rules: layout from the name, issuer prefix, Luhn checksum, and a default keyword
    within 30 characters before the match (DataDog/documentation, library_rules.md and telemetry_data.md)."""

    def test_a_card_near_a_keyword_is_redacted(self) -> None:
        """`card 4111 1111 1111 1111` is a Visa number with a keyword just before it."""
        emulator = scanner_rules(visa_rule("Visa Card Scanner (4x4 digits)"))
        assert processed(emulator, {"message": f"card {VISA} used"}).message == "card [card] used"

    def test_no_keyword_no_match(self) -> None:
        """Without a default keyword within 30 characters before it, the number stays."""
        emulator = scanner_rules(visa_rule("Visa Card Scanner (4x4 digits)"))
        assert processed(emulator, {"message": f"order {VISA}"}).message == f"order {VISA}"
        far = f"card {'x' * 40} {VISA}"
        assert processed(emulator, {"message": far}).message == far

    def test_a_keyword_in_the_attribute_path_counts(self) -> None:
        """An attribute named like a keyword (`card_number`) needs no keyword in its value."""
        emulator = scanner_rules(visa_rule("Visa Card Scanner (1x16 & 1x19 digits)"))
        log = processed(emulator, {"payment": {"card": "4111111111111111"}, "ref": "4111111111111111"})
        assert log.attributes == {"payment": {"card": "[card]"}, "ref": "4111111111111111"}

    def test_failed_checksum_or_wrong_issuer_is_not_a_card(self) -> None:
        """A number with a bad Luhn checksum, or a MasterCard under a Visa rule, is left alone."""
        emulator = scanner_rules(visa_rule("Visa Card Scanner (4x4 digits)"))
        for text in ("card 4111 1111 1111 1112", "card 5555 5555 5555 4444"):
            assert processed(emulator, {"message": text}).message == text

    def test_span_ids_are_not_cards(self) -> None:
        """A 19-digit span ID after the word `span` is not taken for a Visa number (no keyword)."""
        emulator = scanner_rules(visa_rule("Visa Card Scanner (1x16 & 1x19 digits)"))
        assert processed(emulator, {"message": "span 4039245873091624871"}).message == "span 4039245873091624871"

    @pytest.mark.parametrize(
        ("name", "number"),
        [
            ("MasterCard Scanner (4x4 digits)", "5555 5555 5555 4444"),
            ("MasterCard Scanner (1x16 digits)", "2223000048400011"),
            ("American Express Card Scanner (1x15 digits)", "378282246310005"),
            ("American Express Card Scanner (4+6+5 digits)", "3782 822463 10005"),
            ("Discover Card Scanner (4x4 digits)", "6011 1111 1111 1117"),
            ("Discover Card Scanner (1x16 digits)", "6011000990139424"),
        ],
    )
    def test_each_shipped_card_rule_finds_its_network(self, name: str, number: str) -> None:
        """Every library card rule the shipped rules use redacts a test number of its network."""
        emulator = scanner_rules(visa_rule(name))
        assert processed(emulator, {"message": f"credit card {number}"}).message == "credit card [card]"

    def test_every_shipped_library_rule_is_emulated(self) -> None:
        """The shipped rules name only library rules the emulator reproduces."""
        scanner = shipped_rules().sensitive_data
        assert scanner is not None
        assert {rule.library_rule for rule in scanner.rules.values() if rule.library_rule} <= set(LIBRARY)

    @settings(max_examples=60, deadline=None)
    @given(st.text(alphabet="0123456789", min_size=2, max_size=19))
    def test_luhn_check_digit(self, digits: str) -> None:
        """Exactly one check digit completes any digit string to a valid Luhn number."""
        assert sum(luhn_valid(digits + str(check)) for check in range(10)) == 1


class TestShippedScanner:
    def test_shipped_rules_keep_trace_ids_and_redact_a_card(self) -> None:
        """With the shipped rules, a leaked card number in a paylog line is redacted and tagged; the trace and
        span IDs of the same line are intact."""
        emulator = Emulator(shipped_rules())
        raw = {
            "message": "charge",
            "logger": "payments.api",
            "level": "info",
            "body": f"card {VISA}",
            "dd.trace_id": "5227843308065000149",
            "dd.span_id": "4039245873091624871",
        }
        log = emulator.process(raw)
        assert log.attributes["body"] == "card [card number]"
        assert log.attributes["dd"] == {"trace_id": "5227843308065000149", "span_id": "4039245873091624871"}
        assert "sensitive_data:card_number" in log.tags


class TestGroupInOnePass:
    """The untraced path runs the whole group in one pass; it must equal the rules applied one by one."""

    @settings(max_examples=60, deadline=None)
    @given(
        st.dictionaries(
            st.sampled_from(["note", "card", "mail", "n"]),
            st.one_of(
                st.sampled_from([f"card {VISA}", "jane@example.com", "x 1234 y", "plain", "card 4111111111111111"]),
                st.integers(),
                st.text(max_size=20),
            ),
            max_size=4,
        ),
        st.sampled_from(["", "pay card 4111 1111 1111 1111 by jane@example.com"]),
    )
    def test_one_pass_equals_rule_by_rule(self, attributes: dict[str, Any], message: str) -> None:
        """For any log, `process` (one pass) and `process_traced` (rule by rule) store the same log."""
        emulator = Emulator(shipped_rules())
        raw = {"message": message, "logger": "payments.api", **attributes}
        plain = emulator.process(copy.deepcopy(raw))
        traced, _ = emulator.process_traced(copy.deepcopy(raw))
        assert (plain.message, plain.attributes, plain.tags) == (traced.message, traced.attributes, traced.tags)

    def test_rules_that_cannot_be_joined_still_run(self) -> None:
        """A regex with a global inline flag cannot join the others; the group still applies every rule."""
        emulator = scanner_rules(EMAIL_RULE + "upper:\n  name: u\n  regex: '(?i)secret'\n  replacement: {type: hash}")
        log = processed(emulator, {"message": "SECRET jane@example.com"})
        assert "SECRET" not in log.message
        assert "[email]" in log.message
