"""The redaction processor, called directly, and through a configured logger."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paylog_testing import Configure

import paylog
from paylog.processors import dumps_line
from paylog.redaction import (
    CIRCULAR,
    DEPTH_LIMIT,
    NODE_LIMIT,
    REDACTED,
    Redactor,
    anonymize_ip,
    luhn_valid,
    mask_card_numbers,
    safe_str,
)


def redact(redactor: Redactor | None = None, /, **event_dict: Any) -> dict[str, Any]:
    return dict((redactor or Redactor())(None, "info", dict(event_dict)))


def with_check_digit(body: str) -> str:
    """`body` plus the digit that makes it Luhn-valid."""
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def group(digits: str, separator: str, size: int = 4) -> str:
    return separator.join(digits[i : i + size] for i in range(0, len(digits), size))


class TestLuhn:
    @pytest.mark.parametrize("number", ["4242424242424242", "4111111111111111", "378282246310005", "5555555555554444"])
    def test_known_test_cards_are_valid(self, number: str) -> None:
        """Card networks' public test numbers pass the Luhn check."""
        assert luhn_valid(number)

    def test_off_by_one_fails(self) -> None:
        """Changing the last digit breaks the check."""
        assert not luhn_valid("4242424242424241")


class TestCardNumbers:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("4242424242424242", "************4242"),
            ("card 4242 4242 4242 4242 ok", "card ************4242 ok"),
            ("card 4242-4242-4242-4242.", "card ************4242."),
            ("amex 3782 822463 10005", "amex ***********0005"),
            ("two 4242424242424242,5555555555554444", "two ************4242,************4444"),
            ("prefix 12-4242 4242 4242 4242", "prefix 12-************4242"),
        ],
    )
    def test_luhn_valid_numbers_are_masked(self, text: str, expected: str) -> None:
        """Valid card numbers, plain or grouped, keep only their last four digits."""
        assert mask_card_numbers(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "order 4242424242424241",
            "id 12345678901234567890123",
            "phone +1 415 555 0100",
            "2026-11-29T12:00:00.123456Z",
            "4242  4242  4242  4242",
        ],
    )
    def test_other_digit_runs_are_left_alone(self, text: str) -> None:
        """Luhn-invalid numbers, over-long runs, dates and loosely spaced digits are not touched."""
        assert mask_card_numbers(text) == text

    def test_integers_that_are_card_numbers_are_masked(self) -> None:
        """A card number passed as an int is masked too; ordinary big ints are not."""
        result = redact(card=4242424242424242, order=4242424242424241, small=42)
        assert result == {"card": "************4242", "order": 4242424242424241, "small": 42}

    @settings(max_examples=150, deadline=None)
    @given(
        body=st.from_regex(r"[3-6][0-9]{11,17}", fullmatch=True),
        separator=st.sampled_from(["", " ", "-"]),
        size=st.sampled_from([4, 5, 6]),
        before=st.text(alphabet=st.characters(exclude_categories=["Nd"]), max_size=30),
        after=st.text(alphabet=st.characters(exclude_categories=["Nd"]), max_size=30),
        nest=st.booleans(),
    )
    def test_no_valid_card_survives(
        self, body: str, separator: str, size: int, before: str, after: str, nest: bool
    ) -> None:
        """A Luhn-valid 13-19 digit card number written anywhere in text never reaches the output.

        The surrounding text has no digits, so any run of the card's digits in the output, separators
        removed, could only be the card itself.
        """
        digits = with_check_digit(body)
        card = group(digits, separator, size) if separator else digits
        text = f"{before} {card} {after}"
        value: Any = {"notes": [text]} if nest else text
        output = dumps_line(redact(message=value)).decode()
        assert digits not in re.sub(r"[ -]", "", output)
        assert "*" * (len(digits) - 4) + digits[-4:] in output

    @settings(max_examples=100, deadline=None)
    @given(
        body=st.text(alphabet="0123456789", min_size=12, max_size=18),
        words=st.lists(st.text(alphabet="abcdefghij XYZ.,:", max_size=12), max_size=4),
    )
    def test_non_luhn_numbers_are_left_alone(self, body: str, words: Sequence[str]) -> None:
        """Digit runs that fail the Luhn check pass through unchanged."""
        digits = next(body + d for d in "0123456789" if not luhn_valid(body + d))
        text = " ".join([*words, digits, *words])
        assert redact(message=text)["message"] == text


class TestSecretsAndPersonalData:
    @pytest.mark.parametrize(
        "key",
        [
            "password",
            "PASSWORD",
            "secret",
            "token",
            "access_token",
            "refreshToken",
            "api_key",
            "X-Api-Key",
            "Authorization",
            "cvv",
            "card_number",
            "cardNumber",
            "client_secret",
            "session_cookie",
        ],
    )
    def test_sensitive_keys_are_redacted(self, key: str) -> None:
        """Values under secret-looking keys become [REDACTED], whatever their type."""
        assert redact(**{key: "hunter2"})[key] == REDACTED
        assert redact(**{key: 123})[key] == REDACTED
        assert redact(**{key: {"nested": "x"}})[key] == REDACTED

    @pytest.mark.parametrize("key", ["key", "tokens_used", "max_tokens", "passage", "user_id", "secretary_name"])
    def test_similar_keys_are_kept(self, key: str) -> None:
        """Keys that only look similar keep their values."""
        assert redact(**{key: "value"})[key] == "value"

    def test_nested_sensitive_keys(self) -> None:
        """Secrets inside nested mappings and lists are redacted too."""
        result = redact(
            request={"headers": {"Authorization": "Bearer abc", "Accept": "json"}, "items": [{"pin": 1, "cvv": "123"}]}
        )
        assert result["request"] == {
            "headers": {"Authorization": REDACTED, "Accept": "json"},
            "items": [{"pin": REDACTED, "cvv": REDACTED}],
        }

    def test_extra_sensitive_keys(self) -> None:
        """Services can add their own sensitive key suffixes."""
        result = redact(Redactor(extra_sensitive_keys=["iban"]), payout_iban="DE89370400440532013000")
        assert result["payout_iban"] == REDACTED

    def test_emails_are_masked_by_default(self) -> None:
        """Addresses keep their first character and domain."""
        result = redact(email="jane.doe@example.com", note="contact john@corp.example.org now")
        assert result == {"email": "j***@example.com", "note": "contact j***@corp.example.org now"}

    def test_emails_can_be_hashed(self) -> None:
        """In hash mode an address becomes a stable pseudonym, the same for any letter case."""
        redactor = Redactor(email_redaction="hash")
        first = redact(redactor, email="Jane.Doe@Example.com")["email"]
        second = redact(redactor, email="jane.doe@example.com")["email"]
        assert first == second
        assert re.fullmatch(r"sha256:[0-9a-f]{16}", first)

    def test_ip_addresses_are_kept_by_default(self) -> None:
        """Security monitoring needs client IPs, so they pass unless anonymisation is on."""
        assert redact(ip_address="203.0.113.42")["ip_address"] == "203.0.113.42"

    def test_ip_addresses_can_be_anonymised(self) -> None:
        """With anonymize_ip, IPv4 loses its last octet and IPv6 is cut to its /48."""
        redactor = Redactor(anonymize_ip=True)
        result = redact(redactor, ip_address="203.0.113.42", client_ip="2001:db8:85a3:8d3::1", zip="10115")
        assert result == {"ip_address": "203.0.113.0", "client_ip": "2001:db8:85a3::", "zip": "10115"}
        assert anonymize_ip("not an ip") == "not an ip"


class TestBoundsAndOddValues:
    def test_long_strings_are_truncated_with_a_marker(self) -> None:
        """Strings over the limit are cut and say how much was dropped."""
        result = redact(Redactor(max_string_length=100), blob="x" * 60 + ", " + "y" * 1000)["blob"]
        assert result.startswith("x" * 60)
        assert result.endswith("chars]")
        assert len(result) < 140

    def test_truncation_never_leaves_half_a_card_number(self) -> None:
        """A card number cut by truncation is dropped with the cut, not left partly visible."""
        text = "a" * 90 + " 4242 4242 4242 4242 tail"
        result = redact(Redactor(max_string_length=100), note=text)["note"]
        assert "4242 4242" not in result

    def test_cycles_become_a_marker(self) -> None:
        """Self-containing lists and dicts end in a marker instead of recursing forever."""
        items: list[Any] = [1]
        items.append(items)
        mapping: dict[str, Any] = {}
        mapping["me"] = mapping
        result = redact(items=items, mapping=mapping)
        assert result == {"items": [1, CIRCULAR], "mapping": {"me": CIRCULAR}}

    def test_depth_is_bounded(self) -> None:
        """Deep nesting is cut at the depth limit."""
        value: Any = "leaf"
        for _ in range(50):
            value = [value]
        result = redact(Redactor(max_depth=3), deep=value)["deep"]
        assert result == [[[DEPTH_LIMIT]]]

    def test_container_sizes_are_bounded(self) -> None:
        """Big lists and mappings keep their first items and say how many were dropped."""
        result = redact(Redactor(max_items=3), items=list(range(10)), mapping={str(i): i for i in range(10)})
        assert result["items"] == [0, 1, 2, "[7 more items]"]
        assert result["mapping"] == {"0": 0, "1": 1, "2": 2, "[truncated]": "7 more keys"}

    def test_total_nodes_are_bounded(self) -> None:
        """A wide and deep structure stops at the node budget."""
        wide = [[list(range(50)) for _ in range(50)] for _ in range(50)]
        result = redact(Redactor(max_nodes=100), wide=wide)["wide"]
        assert NODE_LIMIT in orjson.dumps(result).decode()

    def test_unencodable_values_become_text(self) -> None:
        """Objects JSON cannot encode are rendered with str(); a failing __str__ does not raise."""

        class NoStr:
            def __str__(self) -> str:
                raise ValueError("nope")

            def __repr__(self) -> str:
                raise ValueError("nope")

        class Custom:
            def __str__(self) -> str:
                return "custom jane@example.com"

        result = redact(a=NoStr(), b=Custom(), c=object.__new__(object))
        assert result["a"] == "<unprintable NoStr>"
        assert result["b"] == "custom j***@example.com"
        assert result["c"].startswith("<object object")

    def test_common_types_keep_useful_forms(self) -> None:
        """Dates, UUIDs, Decimals, enums, sets, bytes and dataclasses become natural JSON."""

        class Colour(Enum):
            RED = "red"

        @dataclasses.dataclass
        class Card:
            holder: str
            card_number: str

        result = redact(
            when=dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC),
            day=dt.date(2026, 11, 29),
            uid=UUID(int=1),
            price=Decimal("12.50"),
            colour=Colour.RED,
            tags={"a"},
            raw=b"bytes \xff",
            card=Card("Jane", "4242424242424242"),
            huge=2**80,
        )
        assert result == {
            "when": "2026-11-29T12:00:00+00:00",
            "day": "2026-11-29",
            "uid": "00000000-0000-0000-0000-000000000001",
            "price": 12.5,
            "colour": "red",
            "tags": ["a"],
            "raw": "bytes \ufffd",
            "card": {"holder": "Jane", "card_number": REDACTED},
            "huge": str(2**80),
        }

    def test_non_string_keys_become_text(self) -> None:
        """Mapping keys are written as strings, and are redacted like values."""
        result = redact(data={1: "a", None: "b", "mail jane@example.com": "c"})
        assert result["data"] == {"1": "a", "None": "b", "mail j***@example.com": "c"}

    def test_safe_str_never_raises(self) -> None:
        """safe_str falls back from str to repr to the type name."""

        class Broken:
            def __str__(self) -> str:
                raise RuntimeError

            def __repr__(self) -> str:
                raise RuntimeError

        assert safe_str(Broken()) == "<unprintable Broken>"
        assert safe_str(3) == "3"


class TestThroughTheLogger:
    def test_configured_logger_redacts(self, configure: Configure) -> None:
        """A configured logger masks cards and emails and drops secrets in fields and the message."""
        sink = configure()
        paylog.get_logger("p").info(
            "charged 4111 1111 1111 1111 for jane@example.com",
            password="hunter2",
            details={"card_number": "4111111111111111", "note": "4111-1111-1111-1111"},
        )
        line = sink.only()
        text = orjson.dumps(line).decode()
        assert "4111 1111" not in text
        assert "4111-1111" not in text
        assert "hunter2" not in text
        assert line["message"] == "charged ************1111 for j***@example.com"

    def test_email_field_of_an_event_is_masked(self, configure: Configure) -> None:
        """Email on events is masked (or hashed) on output, never written raw."""
        sink = configure(email_redaction="hash")
        paylog.get_logger("p").event("user_registration", user_id="u1", email="jane@example.com")
        assert sink.only()["email"].startswith("sha256:")

    def test_logger_fields_are_never_mangled(self, configure: Configure) -> None:
        """The logger's own fields are added after redaction (a numeric correlation ID stays intact)."""
        sink = configure(service="svc-4242424242424242")
        with paylog.correlation_scope("4242-4242-4242-4241"):
            paylog.get_logger("p").info("x")
        line = sink.only()
        assert line["correlation_id"] == "4242-4242-4242-4241"
        assert line["service"] == "svc-4242424242424242"

    def test_anonymize_ip_setting(self, configure: Configure) -> None:
        """configure(anonymize_ip=True) anonymises IP fields of events."""
        sink = configure(anonymize_ip=True)
        paylog.get_logger("p").event("authentication_attempt", success=True, ip_address="198.51.100.77")
        assert sink.only()["ip_address"] == "198.51.100.0"
