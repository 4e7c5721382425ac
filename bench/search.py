"""How much a compiled search query costs per log, against the plainest hand-written check.

Run: .venv/bin/python bench/search.py

Each line times a compiled query over the same records as a hand-written Python predicate that answers
the same question (the anchor), and prints the ratio compiled / anchor. Both agree on every record.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from logmon.logrecord import LogRecord
from logmon.search import compile_query, parse

RECORDS = 200_000
ROUNDS = 5


def make_records(count: int) -> list[LogRecord]:
    chooser = random.Random(7)
    events = ["payment_completion", "payment_started", "refund_issued", "login"]
    messages = ["payment done", "upstream timeout after 30s", "user logged in", "card declined by issuer"]
    records = []
    for _ in range(count):
        records.append(
            LogRecord(
                attributes={
                    "event_type": chooser.choice(events),
                    "success": chooser.random() < 0.9,
                    "amount": chooser.randint(1, 1000),
                    "http": {"status_code": chooser.choice([200, 201, 404, 500, 503])},
                },
                message=chooser.choice(messages),
                status=chooser.choice(["info", "info", "info", "error"]),
                service=chooser.choice(["payments", "checkout"]),
                tags=["env:prod", f"version:{chooser.randint(1, 3)}"],
            )
        )
    return records


def best_time(predicate: Callable[[LogRecord], bool], records: list[LogRecord]) -> tuple[float, int]:
    best = float("inf")
    hits = 0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        hits = sum(1 for record in records if predicate(record))
        best = min(best, time.perf_counter() - start)
    return best, hits


CASES: list[tuple[str, Callable[[LogRecord], bool]]] = [
    (
        "@event_type:payment_completion",
        lambda r: r.attributes.get("event_type") == "payment_completion",
    ),
    (
        "service:payments @event_type:payment_completion @success:false",
        lambda r: (
            r.service == "payments"
            and r.attributes.get("event_type") == "payment_completion"
            and r.attributes.get("success") is False
        ),
    ),
    (
        "@http.status_code:[500 TO 599] status:error",
        lambda r: 500 <= r.attributes.get("http", {}).get("status_code", 0) <= 599 and r.status == "error",
    ),
    ("timeout", lambda r: "timeout" in r.message.lower().split()),
    ("env:prod -version:1", lambda r: "env:prod" in r.tags and "version:1" not in r.tags),
]


def main() -> None:
    records = make_records(RECORDS)
    print(f"{RECORDS} records, best of {ROUNDS} rounds; ratio = compiled / anchor")
    for query, anchor in CASES:
        compiled = compile_query(parse(query))
        assert all(compiled(r) == anchor(r) for r in records), query
        compiled_time, hits = best_time(compiled, records)
        anchor_time, _ = best_time(anchor, records)
        per_log = compiled_time / RECORDS * 1e9
        print(f"{query:<66} {per_log:7.0f} ns/log  ratio {compiled_time / anchor_time:5.2f}  ({hits} hits)")


if __name__ == "__main__":
    main()
