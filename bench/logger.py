"""Cost of one log line: paylog against structlog's fastest JSON setup and the old stdlib setup.

    .venv/bin/python bench/logger.py [--n N] [--rounds R]

(a) structlog's documented fast path (make_filtering_bound_logger, orjson JSONRenderer, BytesLogger,
    cached loggers) logging the payment event's fields;
(b) paylog fully on (catalogue check, level rule, redaction, enrichment, correlation, trace lookup) via
    `log.event(...)`, configured by `paylog.configure()` exactly as a service is;
(c) the stdlib-based structlog configuration our services used before paylog, through a
    logging.StreamHandler;
plus a filtered-out `log.debug` and a sampled-out `log.event` on the paylog logger.

Every variant writes to an in-memory sink. Rounds of N calls interleave the variants; the best round
is the figure (the median is shown beside it), and the ratios use the best rounds.
"""

from __future__ import annotations

import argparse
import io
import logging
import statistics
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ddtrace  # noqa: F401  # a traced service has it loaded; paylog then looks up the active span

import paylog
from paylog import sampling
from paylog.correlation import correlation_scope
from paylog.sampling import unit_fraction

CORRELATION_ID = "5b7e2f4c-1d3a-4c8e-9f6b-2a1d7c3e8b90"

PAYMENT = {
    "transaction_id": "txn_5f2c9a8b7d",
    "payment_status": "completed",
    "amount": 125.5,
    "currency": "USD",
    "processing_time_ms": 184.2,
    "fees": 0.75,
    "exchange_rate": 1.0,
    "completion_timestamp": "2026-11-29T12:00:00Z",
}

TARGETS = {
    "b/a": "≤ 1.5",
    "c/b": "≥ 3",
    "filtered debug": "≤ 150 ns",
    "sampled-out event": "≤ 1000 ns",
}


def measure(
    variants: dict[str, tuple[Callable[[], Any], io.IOBase | None]], n: int, rounds: int
) -> dict[str, tuple[float, float]]:
    """(best, median) ns per call for each variant.

    Rounds interleave the variants, so load from other processes hits all of them alike; each round
    empties the sink first so it never grows large.
    """
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for call, _ in variants.values():
        call()  # warm caches (structlog's logger cache, paylog's key cache)
    for _ in range(rounds):
        for name, (call, sink) in variants.items():
            if sink is not None:
                sink.seek(0)
                sink.truncate()
            elapsed = timeit.timeit(call, number=n)
            samples[name].append(elapsed / n * 1e9)
    return {name: (min(values), statistics.median(values)) for name, values in samples.items()}


def structlog_fastest(sink: io.BytesIO) -> Callable[[], None]:
    structlog.configure(
        cache_logger_on_first_use=True,
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        logger_factory=structlog.BytesLoggerFactory(sink),
    )
    log = structlog.get_logger("payments").bind()
    # The same output fields as paylog writes, so both lines carry the same information.
    static = {
        "logger": "payments",
        "service": "payment-service",
        "env": "prod",
        "version": "1.4.2",
        "cluster": "prod-eu-1",
        "correlation_id": CORRELATION_ID,
    }

    def call() -> None:
        log.info(
            "Payment processing finished",
            event_type="payment_completion",
            **static,
            **PAYMENT,
        )

    return call


def stdlib_setup(stream: io.StringIO) -> Callable[[], None]:
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.processors.UnicodeDecoder(),
            structlog.processors.JSONRenderer(),
        ],
        context_class=dict,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    log = structlog.get_logger("payment-service").bind()
    base = {"service": "payment-service", "environment": "prod", "version": "1.4.2", "cluster": "prod-eu-1"}

    def call() -> None:
        log.info(
            "Payment completed",
            **base,
            correlation_id=CORRELATION_ID,
            event_type="payment_completion",
            **PAYMENT,
        )

    return call


def paylog_logger(sink: io.BytesIO) -> paylog.PaylogLogger:
    """The logger as a production service gets it (production mode: env=prod)."""
    paylog.configure(
        service="payment-service",
        env="prod",
        version="1.4.2",
        cluster="prod-eu-1",
        stream=sink,
        environ={},
    )
    return paylog.get_logger("payments")


def dropped_correlation_id(rate: float) -> str:
    candidate = 0
    while unit_fraction(f"req-{candidate}") < rate:
        candidate += 1
    return f"req-{candidate}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000, help="calls per round (default 20000)")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (default 9)")
    args = parser.parse_args()

    # Each setup configures structlog globally, then keeps an assembled logger that no longer depends
    # on the global configuration, so all variants can run side by side.
    sink_a, sink_b, stream_c = io.BytesIO(), io.BytesIO(), io.StringIO()
    call_a = structlog_fastest(sink_a)
    call_c = stdlib_setup(stream_c)
    log = paylog_logger(sink_b)
    request = {"method": "GET", "endpoint": "/v1/payments", "status_code": 200, "response_time_ms": 12.5}

    def call_b() -> None:
        log.event("payment_completion", **PAYMENT)

    def call_filtered() -> None:
        log.debug("cache lookup", key="k")

    def call_sampled_out() -> None:
        log.event("api_request", **request)

    with correlation_scope(CORRELATION_ID):
        results = measure(
            {
                "a": (call_a, sink_a),
                "b": (call_b, sink_b),
                "c": (call_c, stream_c),
                "filtered debug": (call_filtered, None),
            },
            args.n,
            args.rounds,
        )
    sampling.set_rate(0.1)
    before = sampling.dropped()
    with correlation_scope(dropped_correlation_id(0.1)):
        results |= measure({"sampled-out event": (call_sampled_out, None)}, args.n, args.rounds)
    if sampling.dropped() <= before:
        raise SystemExit("the sampled-out case was not dropped")
    line_a, line_b = sink_a.getvalue().splitlines()[0], sink_b.getvalue().splitlines()[0]
    written = orjson.loads(line_b)
    expected = {"correlation_id": CORRELATION_ID, "event_type": "payment_completion"}
    if any(written.get(k) != v for k, v in expected.items()) or "schema_violations" in written:
        raise SystemExit(f"(b) wrote an unexpected line: {line_b!r}")
    best = {name: value[0] for name, value in results.items()}

    print(f"{args.n} calls x {args.rounds} interleaved rounds; best (median) ns/call; Python {sys.version.split()[0]}")
    print(f"  line (a) {len(line_a)} bytes, line (b) {len(line_b)} bytes")
    labels = {
        "a": "(a) structlog fastest JSON setup",
        "b": "(b) paylog log.event, all features",
        "c": "(c) old stdlib structlog setup",
        "filtered debug": "filtered-out log.debug",
        "sampled-out event": "sampled-out log.event",
    }
    for name, label in labels.items():
        best_ns, median_ns = results[name]
        print(f"  {label:<36} {best_ns:8.0f}  ({median_ns:.0f})")
    ratios = {"b/a": best["b"] / best["a"], "c/b": best["c"] / best["b"]}
    checks = {
        "b/a": ratios["b/a"] <= 1.5,
        "c/b": ratios["c/b"] >= 3,
        "filtered debug": best["filtered debug"] <= 150,
        "sampled-out event": best["sampled-out event"] <= 1000,
    }
    print(f"  b/a = {ratios['b/a']:.2f}   c/b = {ratios['c/b']:.2f}")
    for name, target in TARGETS.items():
        print(f"  {'met   ' if checks[name] else 'MISSED'} {name} {target}")


if __name__ == "__main__":
    main()
