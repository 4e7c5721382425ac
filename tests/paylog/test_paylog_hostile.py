"""The logger under attack: no card number, secret or personal datum escapes, and no call ever raises."""

from __future__ import annotations

import dataclasses
import email.message
import re
from collections import namedtuple
from decimal import Decimal
from types import MappingProxyType, SimpleNamespace
from typing import Any

import orjson
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paylog_testing import Configure, Sink
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import paylog
from paylog import sampling
from paylog.correlation import CorrelationMiddleware, correlation_scope
from paylog.processors import MAX_LINE_BYTES
from paylog.redaction import REDACTED, luhn_valid

CARD = "4242424242424242"
MASKED = "************4242"
_RUN = re.compile(r"[0-9]+(?:(?:[ .+-]|%20)[0-9]+)*")
_SEPARATOR = re.compile(r"[ .+-]|%20")


def leaked_cards(text: str) -> list[str]:
    """Luhn-valid 13-19 digit numbers in `text`, plain or made of consecutive separated digit groups."""
    found = []
    for run in _RUN.finditer(text):
        groups = _SEPARATOR.split(run.group())
        for start in range(len(groups)):
            digits = ""
            for group in groups[start:]:
                digits += group
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and luhn_valid(digits):
                    found.append(digits)
    return found


def production(configure: Configure, **overrides: Any) -> tuple[Sink, Any]:
    sink = configure(env="prod", **overrides)
    return sink, paylog.get_logger("hostile")


def with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


# Card numbers as networks issue them (IIN prefix, length), never epoch-like.
cards = st.sampled_from(
    [
        ("4", 16),
        ("4", 13),
        ("4", 19),
        ("51", 16),
        ("2221", 16),
        ("34", 15),
        ("37", 15),
        ("6011", 16),
        ("62", 19),
        ("35", 17),
    ]
).flatmap(
    lambda shape: st.text(
        alphabet="0123456789", min_size=shape[1] - len(shape[0]) - 1, max_size=shape[1] - len(shape[0]) - 1
    ).map(lambda rest: with_check_digit(shape[0] + rest))
)
separators = st.sampled_from(["", " ", "-", ".", "+", "%20"])
filler = st.text(alphabet=st.characters(exclude_categories=["Nd", "Cs"], exclude_characters="0123456789"), max_size=30)


def shaped(digits: str, separator: str, size: int) -> str:
    return separator.join(digits[i : i + size] for i in range(0, len(digits), size)) if separator else digits


Point = namedtuple("Point", "note other")


@dataclasses.dataclass
class Record:
    note: str


class Model(pydantic.BaseModel):
    note: str


def placements(card: str, digits: str, before: str, after: str) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """Where a card number can hide in a log call: `(message, fields)`."""
    text = f"{before} {card} {after}"
    number = int(digits)
    return st.sampled_from(
        [
            ("value", {"note": text}),
            ("key", {text: 1}),
            ("nested key", {"data": {"inner": [{text: "x"}]}}),
            ("nested value", {"data": {"inner": [text, (text,)]}}),
            ("long key", {"k" * 300 + text: 1}),
            ("objects", {"p": Point(text, 1), "r": Record(text), "m": Model(note=text), "n": SimpleNamespace(a=text)}),
            ("pairs", {"headers": [(b"x-note", text.encode())]}),
            ("exception", {"exc_info": ValueError(text)}),
            ("int", {"amount": number}),
            ("negative", {"amount": -number}),
            ("float", {"amount": float(number)} if len(digits) <= 15 else {"amount": number}),
            ("decimal", {"amount": Decimal(digits)}),
            ("url", {"url": f"https://pay.example/x?pan={card}&next={before}"}),
            ("cut", {"note": "x" * (8192 - len(card) // 2) + card + after}),
            ("cut at the end", {"note": before + card + "y" * 40_000}),
            ("message", {}),
            ("many fields", {f"f{i}": "v" * 200 for i in range(2000)} | {"note": text}),
        ]
    ).map(lambda entry: (text if entry[0] == "message" else entry[0], entry[1]))


class TestProperties:
    @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        data=st.data(), digits=cards, separator=separators, size=st.sampled_from([4, 5, 6]), before=filler, after=filler
    )
    def test_no_card_survives_anywhere(
        self, configure: Configure, data: st.DataObject, digits: str, separator: str, size: int, before: str, after: str
    ) -> None:
        """A card number in any shape and position never reaches the line; each line is one JSON object ≤ 1 MB."""
        sink, log = production(configure)
        card = shaped(digits, separator, size)
        message, fields = data.draw(placements(card, digits, before, after))
        log.error(message, **fields)
        raw = sink.raw_lines()
        assert len(raw) == 1
        assert len(raw[0]) <= 1024 * 1024
        line = orjson.loads(raw[0])
        assert isinstance(line, dict)
        text = raw[0].decode()
        assert leaked_cards(text) == [], text[:300]
        assert digits[:12] not in re.sub(r"[ .+-]|%20", "", text)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        method=st.sampled_from(["debug", "info", "warning", "error", "exception", "critical", "msg"]),
        message=st.one_of(st.none(), st.text(), st.integers(), st.binary()),
        fields=st.dictionaries(
            st.text(max_size=20),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(),
                lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                max_leaves=12,
            ),
            max_size=8,
        ),
    )
    def test_production_never_raises(
        self, configure: Configure, method: str, message: Any, fields: dict[str, Any]
    ) -> None:
        """Any keywords and values, in production, give exactly one JSON object and no exception."""
        sink, log = production(configure)
        getattr(log, method)(message, **fields)
        raw = sink.raw_lines()
        assert len(raw) == 1
        assert isinstance(orjson.loads(raw[0]), dict)


class TestRedactionBeforeTruncation:
    def test_a_long_value_cut_inside_a_card_number(self, configure: Configure) -> None:
        """A card straddling the length limit is neither written whole nor in part."""
        sink, log = production(configure)
        log.info("x", note="a" * 8184 + CARD + " tail")
        assert CARD[:8] not in sink.raw_lines()[0].decode()

    def test_a_long_stack_cut_inside_a_card_number(self, configure: Configure) -> None:
        """The stack keeps its end, and a card its cut would split leaves no digits behind."""
        sink, log = production(configure)
        # The stack is cut to its last 8128 characters: "y" * 8115 + "\n" and 12 digits of the card before.
        try:
            raise ValueError("card " + CARD + "y" * 8115)
        except ValueError as error:
            log.error("failed", exc_info=error)
        assert CARD[4:] not in sink.raw_lines()[0].decode()

    def test_violation_text_is_scanned_before_it_is_cut(self, configure: Configure) -> None:
        """A card in a refused value is masked before the quote is cut to size."""
        sink, log = production(configure)
        log.event("kyc_verification", user_id="u", verification_method="doc", verification_status="y" * 26 + CARD)
        assert CARD[:12] not in sink.raw_lines()[0].decode()


class TestKeys:
    def test_card_numbers_and_addresses_as_keys(self, configure: Configure) -> None:
        """Keys are scanned like values, at the top and nested."""
        sink, log = production(configure)
        log.info("x", **{CARD: 1, "jane@example.com": 2}, nested={CARD: {"john@example.com": 3}})
        text = sink.raw_lines()[0].decode()
        assert CARD not in text
        assert "jane@" not in text
        assert "john@" not in text

    def test_a_huge_key_is_cut(self, configure: Configure) -> None:
        """A key of a megabyte is written in at most a few hundred characters."""
        sink, log = production(configure)
        log.info("x", **{"k" * 1_000_000: 1})
        assert max(len(key) for key in sink.only()) < 300

    def test_tens_of_thousands_of_fields_stay_below_the_limit(self, configure: Configure) -> None:
        """The line stays below MAX_LINE_BYTES, keeps the logger's and the event's fields, and says what went."""
        sink, log = production(configure)
        noise = {f"field_{i}": "v" * 100 for i in range(30_000)}
        log.event("kyc_verification", user_id="u1", verification_method="doc", verification_status="approved", **noise)
        raw = sink.raw_lines()[0]
        assert len(raw) <= MAX_LINE_BYTES
        line = orjson.loads(raw)
        assert line["user_id"] == "u1"
        assert line["service"] == "payment-service"
        assert line["message"]
        assert line["fields_dropped"]["count"] > 0
        assert any("fields dropped" in v for v in line["schema_violations"])


class TestSecretNames:
    @pytest.mark.parametrize(
        "key",
        [
            "pin",
            "PIN",
            "card_pin",
            "userPIN",
            "ssn",
            "SSN",
            "cvv2",
            "cvc2",
            "CVV",
            "secret_key",
            "secretKey",
            "password_confirmation",
            "passwordConfirmation",
            "x-api-key",
            "apiKey",
            "APIKey",
            "card_number",
            "client-secret",
            "refresh_token",
            "auth.token",
            "social_security_number",
        ],
    )
    def test_compound_secret_names_are_redacted(self, configure: Configure, key: str) -> None:
        """Secret names match by word parts, whatever the case or separator."""
        sink, log = production(configure)
        log.info("x", **{key: "s3cr3t-value"})
        assert sink.only()[key] == REDACTED

    @pytest.mark.parametrize("key", ["spinner", "company", "keyboard", "cache_key", "pinned_version", "tokenizer_name"])
    def test_words_that_only_contain_a_name_are_kept(self, configure: Configure, key: str) -> None:
        """A name inside another word is not a secret name."""
        sink, log = production(configure)
        log.info("x", **{key: "value"})
        assert sink.only()[key] == "value"

    def test_a_service_extends_the_list(self, configure: Configure) -> None:
        """extra_sensitive_keys names count as word parts too."""
        sink, log = production(configure, extra_sensitive_keys={"iban"})
        log.info("x", customerIban="DE89370400440532013000", payout={"iban_number": "x"})
        line = sink.only()
        assert line["customerIban"] == REDACTED
        assert line["payout"] == {"iban_number": REDACTED}


Credentials = namedtuple("Credentials", "user password")


@dataclasses.dataclass
class Login:
    user: str
    pin: str


class Card(pydantic.BaseModel):
    holder: str
    cvv: str


class TestValuesCarryingNames:
    def test_every_structure_keeps_its_names(self, configure: Configure) -> None:
        """Pairs, namedtuples, dataclasses, pydantic models, namespaces and other mappings redact by name."""
        message = email.message.Message()
        message["Authorization"] = "Bearer abc"
        sink, log = production(configure)
        log.info(
            "x",
            headers=[(b"authorization", b"Bearer abc"), (b"accept", b"json")],
            creds=Credentials("u", "hunter2"),
            login=Login("u", "1234"),
            card=Card(holder="J", cvv="123"),
            ns=SimpleNamespace(api_key="k"),
            proxy=MappingProxyType({"token": "t"}),
            mail=message,
        )
        line = sink.only()
        assert line["headers"] == [["authorization", REDACTED], ["accept", "json"]]
        assert line["creds"] == {"user": "u", "password": REDACTED}
        assert line["login"] == {"user": "u", "pin": REDACTED}
        assert line["card"] == {"holder": "J", "cvv": REDACTED}
        assert line["ns"] == {"api_key": REDACTED}
        assert line["proxy"] == {"token": REDACTED}
        assert line["mail"] == {"Authorization": REDACTED}


class TestFreeText:
    @pytest.mark.parametrize(
        ("text", "hidden"),
        [
            ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi"),
            ("GET /v1/pay?api_key=AKIA1234SECRET&x=1", "AKIA1234SECRET"),
            ("password=hunter2&user=jane", "hunter2"),
            ('{"client_secret": "shh-very-secret"}', "shh-very-secret"),
            ("https://jane:pa55word@db.internal/x", "pa55word"),
            ("user jane%40example.com signed up", "jane%40"),
            ("card 4242.4242.4242.4242", "4242.4242.4242.4242"),
            ("card 4242+4242+4242+4242", "4242+4242+4242+4242"),
            ("card 4242%204242%204242%204242", "4242%204242%204242%204242"),
        ],
    )
    def test_secrets_inside_text(self, configure: Configure, text: str, hidden: str) -> None:
        """Secrets, addresses and separated card numbers inside free text are hidden."""
        sink, log = production(configure)
        log.info("x", note=text)
        assert hidden not in sink.only()["note"]


class TestNumbers:
    def test_card_numbers_as_numbers(self, configure: Configure) -> None:
        """A card number as a float, a Decimal or a negative int is masked."""
        sink, log = production(configure)
        log.info("x", f=4242424242424242.0, d=Decimal(CARD), n=-int(CARD), nested=[Decimal("4242424242424242.00")])
        line = sink.only()
        assert line["f"] == MASKED
        assert line["d"] == MASKED
        assert line["n"] == "-" + MASKED
        assert CARD not in sink.raw_lines()[0].decode()

    def test_timestamps_and_decimal_uuids_are_kept(self, configure: Configure) -> None:
        """Luhn-valid epoch milliseconds and all-decimal UUIDs are not card numbers."""
        millis = next(n for n in range(1_764_417_600_000, 1_764_417_600_100) if luhn_valid(str(n)))
        uuid = "12345678-1234-1234-1234-123456789012"
        sink, log = production(configure)
        log.info("x", at=millis, at_text=f"at {millis}", request_id=uuid)
        line = sink.only()
        assert line["at"] == millis
        assert line["at_text"] == f"at {millis}"
        assert line["request_id"] == uuid


class SelfHolder:
    def handle(self) -> None:
        paylog.get_logger("hostile").info("handled", **locals())


class TestKeywordCollisions:
    def test_production_never_raises(self, configure: Configure) -> None:
        """Keywords named like the logger's parameters are written as fields in production."""
        sink, log = production(configure)
        log.info("x", method_name="m", event="e", self="s")
        log.debug("y", self=1)
        log.exception("z", event="e")
        log.log("info", "w", level_name="x", self=2)
        log.bind(self=1).info("bound", event_type="not-catalogued")
        SelfHolder().handle()
        lines = sink.lines()
        assert len(lines) == 6
        assert lines[0]["method_name"] == "m"
        assert lines[0]["event_value"] == "e"
        assert lines[0]["message"] == "x"

    def test_strict_refuses_event_with_a_clear_message(self, configure: Configure) -> None:
        """Strict mode refuses `event=` (the message key) and names the rename; other names are fields."""
        configure()
        log = paylog.get_logger("hostile")
        with pytest.raises(paylog.EventSchemaError, match="event_value"):
            log.info("x", event="e")
        log.info("x", method_name="m", self="s")


class TestReservedAttributes:
    FORGED = {
        "dd.trace_id": "1",
        "dd.service": "x",
        "dd.env": "x",
        "error.type": "x",
        "error.stack_trace": "x",
        "correlation_id": "forged",
        "schema_violations": ["none"],
    }

    def test_production_moves_every_reserved_attribute_aside(self, configure: Configure) -> None:
        """Each reserved attribute a caller sets is moved aside and recorded, never lost or kept in place."""
        sink, log = production(configure)
        with correlation_scope("req-1"):
            log.info("x", **self.FORGED)
        line = sink.only()
        assert line["correlation_id"] == "req-1"
        assert line["correlation_id_value"] == "forged"
        assert line["schema_violations_value"] == ["none"]
        for key in self.FORGED:
            assert key not in line or key in ("correlation_id", "schema_violations")
            assert any(v.startswith(f"{key}: reserved key") for v in line["schema_violations"])

    @pytest.mark.parametrize("key", sorted(FORGED))
    def test_strict_refuses_each(self, configure: Configure, key: str) -> None:
        """Strict mode refuses each reserved attribute at the call."""
        configure()
        with pytest.raises(paylog.EventSchemaError, match="reserved key"):
            paylog.get_logger("hostile").info("x", **{key: self.FORGED[key]})

    def test_strict_hint_agrees_with_production(self, configure: Configure) -> None:
        """The strict hint for `error="boom"` names error_message, where production moves it."""
        configure()
        with pytest.raises(paylog.EventSchemaError, match="error_message"):
            paylog.get_logger("hostile").info("x", error="boom")


class TestPlainLinesClaimingAnEvent:
    def test_production_checks_the_claimed_event(self, configure: Configure) -> None:
        """A plain line naming a catalogued event_type gets that event's checks."""
        sink, log = production(configure)
        log.info("kyc done", event_type="kyc_verification", verification_status="maybe")
        violations = sink.only()["schema_violations"]
        assert any(v.startswith("verification_status:") for v in violations)
        assert any(v.startswith("user_id: missing") for v in violations)

    def test_strict_refuses_a_bad_claim(self, configure: Configure) -> None:
        """Strict mode raises for a plain line that breaks the event it claims."""
        configure()
        with pytest.raises(paylog.EventSchemaError, match="kyc_verification"):
            paylog.get_logger("hostile").info("kyc done", event_type="kyc_verification")

    def test_a_valid_claim_is_sampled_as_its_event(self, configure: Configure) -> None:
        """A valid claimed line of a sampled event is dropped at rate 0 like the event itself."""
        sink, log = production(configure, sample_rate=0.0)
        with correlation_scope("req-2"):
            log.info(
                "kyc",
                event_type="kyc_verification",
                user_id="u",
                verification_method="d",
                verification_status="approved",
            )
        assert sink.lines() == []
        assert sampling.dropped() == 1


class TestInputsAreNotMutated:
    def test_caller_objects_are_left_alone(self, configure: Configure) -> None:
        """Lists, dicts and bound context passed in are exactly as they were after the call."""
        violations = ["mine"]
        payload = {"password": "x", "items": [CARD]}
        sink, log = production(configure)
        bound = log.bind(tags=["a"])
        bound.info("x", schema_violations=violations, payload=payload, error="boom")
        bound.event("payment_completion", transaction_id="t", amount="bad", payload=payload)
        assert violations == ["mine"]
        assert payload == {"password": "x", "items": [CARD]}
        assert bound._context == {"tags": ["a"]}  # type: ignore[attr-defined]
        assert len(sink.lines()) == 2


class TestCorrelationOnFailures:
    @staticmethod
    def app() -> Starlette:
        async def boom(request: Request) -> PlainTextResponse:
            raise RuntimeError("database down")

        async def on_error(request: Request, exc: Exception) -> PlainTextResponse:
            paylog.get_logger("errors").error("unhandled error", exc_info=exc)
            return PlainTextResponse("sorry", status_code=500)

        app = Starlette(routes=[Route("/boom", boom)], exception_handlers={Exception: on_error})
        app.add_middleware(CorrelationMiddleware)
        return app

    def test_an_unhandled_error_keeps_the_id(self, configure: Configure) -> None:
        """The 500 carries X-Correlation-ID and the error handler's line carries the same ID."""
        sink = configure(env="prod")
        with TestClient(self.app(), raise_server_exceptions=False) as client:
            response = client.get("/boom", headers={"X-Correlation-ID": "req-42"})
        assert response.status_code == 500
        assert response.headers["x-correlation-id"] == "req-42"
        assert sink.only()["correlation_id"] == "req-42"

    def test_a_card_number_as_the_id_is_replaced(self, configure: Configure) -> None:
        """An ID carrying a card number is replaced and never written."""
        sink = configure(env="prod")
        with TestClient(self.app(), raise_server_exceptions=False) as client:
            response = client.get("/boom", headers={"X-Correlation-ID": "4242-4242-4242-4242"})
        assert response.headers["x-correlation-id"] != "4242-4242-4242-4242"
        assert "4242-4242" not in sink.raw_lines()[0].decode()
