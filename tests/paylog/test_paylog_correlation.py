"""Request correlation: the ASGI middleware, correlation scopes and the processor."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest
from paylog_testing import Configure, Sink, run_async
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

import paylog
from paylog.correlation import (
    CorrelationMiddleware,
    add_correlation_id,
    correlation_scope,
    get_correlation_id,
    is_valid_correlation_id,
)


def is_uuid4(value: str) -> bool:
    try:
        return uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value
    except ValueError:
        return False


async def charge(request: Request) -> JSONResponse:
    log = paylog.get_logger("payments.api")
    log.info("charge received", step=1)
    await asyncio.sleep(random.uniform(0, 0.01))
    log.event("api_request", method="POST", endpoint="/charge", status_code=200, response_time_ms=3.0)
    return JSONResponse({"seen": get_correlation_id(), "state": request.state.correlation_id})


def make_app() -> Starlette:
    app = Starlette(routes=[Route("/charge", charge, methods=["POST"])])
    app.add_middleware(CorrelationMiddleware)
    return app


async def post(client: httpx.AsyncClient, correlation_id: str | bytes | None) -> httpx.Response:
    if correlation_id is None:
        return await client.post("/charge")
    value = correlation_id if isinstance(correlation_id, bytes) else correlation_id.encode()
    return await client.post("/charge", headers=[(b"x-correlation-id", value)])


def run_requests(header_values: list[str | bytes | None]) -> list[httpx.Response]:
    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=make_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(*(post(client, value) for value in header_values))

    return run_async(main())


class TestMiddleware:
    def test_valid_header_is_used_and_echoed(self, configure: Configure) -> None:
        """A valid incoming ID is bound for the request, echoed, and on every line logged inside."""
        sink = configure()
        (response,) = run_requests(["req-42.abc_DEF"])
        assert response.headers["x-correlation-id"] == "req-42.abc_DEF"
        assert response.json() == {"seen": "req-42.abc_DEF", "state": "req-42.abc_DEF"}
        lines = sink.lines()
        assert len(lines) == 2
        assert {line["correlation_id"] for line in lines} == {"req-42.abc_DEF"}

    def test_missing_header_gets_a_fresh_uuid4(self, configure: Configure) -> None:
        """Without the header a UUID4 is generated and echoed."""
        sink = configure()
        (response,) = run_requests([None])
        generated = response.headers["x-correlation-id"]
        assert is_uuid4(generated)
        assert {line["correlation_id"] for line in sink.lines()} == {generated}

    @pytest.mark.parametrize(
        "bad",
        ["a" * 129, "x" * 10_000, "bad id", "semi;colon", "uni\u00e9code", 'quote"d', "", "{json}"],
        ids=["129-chars", "10kB", "space", "semicolon", "non-ascii", "quote", "empty", "braces"],
    )
    def test_invalid_header_is_replaced(self, configure: Configure, bad: str) -> None:
        """Over-long, empty or wrongly charactered IDs are replaced by a fresh UUID4."""
        sink = configure()
        (response,) = run_requests([bad.encode("utf-8")])
        echoed = response.headers["x-correlation-id"]
        assert is_uuid4(echoed)
        assert {line["correlation_id"] for line in sink.lines()} == {echoed}

    def test_header_with_newline_is_replaced(self, configure: Configure) -> None:
        """An ID trying to inject a second log line is replaced (sent raw, below the HTTP client)."""
        sink = configure()
        messages: list[MutableMapping[str, Any]] = []

        async def main() -> None:
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "POST",
                "scheme": "http",
                "path": "/charge",
                "raw_path": b"/charge",
                "query_string": b"",
                "root_path": "",
                "headers": [(b"x-correlation-id", b'abc\n{"level":"critical"}')],
                "client": ("127.0.0.1", 1),
                "server": ("test", 80),
            }

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: MutableMapping[str, Any]) -> None:
                messages.append(message)

            await make_app()(scope, receive, send)

        run_async(main())
        start = next(m for m in messages if m["type"] == "http.response.start")
        echoed = dict(start["headers"])[b"x-correlation-id"].decode()
        assert is_uuid4(echoed)
        assert len(sink.raw_lines()) == 2
        assert all(b"\n" not in line and line.count(b'"level"') == 1 for line in sink.raw_lines())

    def test_concurrent_requests_do_not_mix_ids(self, configure: Configure) -> None:
        """Interleaved requests each log only their own ID."""
        sink = configure()
        ids: list[str | bytes | None] = [f"req-{i}" for i in range(25)] + [None] * 15
        responses = run_requests(ids)
        echoed = [r.headers["x-correlation-id"] for r in responses]
        assert echoed[:25] == ids[:25]
        assert all(r.json()["seen"] == e for r, e in zip(responses, echoed, strict=True))
        per_id: dict[str, int] = {}
        for line in sink.lines():
            per_id[line["correlation_id"]] = per_id.get(line["correlation_id"], 0) + 1
        assert per_id == dict.fromkeys(echoed, 2)

    def test_id_is_reset_after_the_request(self, configure: Configure) -> None:
        """Nothing leaks out of the request into the caller's context."""
        configure()
        run_requests(["req-1"])
        assert get_correlation_id() is None

    def test_existing_response_header_is_replaced(self, configure: Configure) -> None:
        """If the app set the header itself, the request's ID wins, once."""

        async def app_with_header(scope: Any, receive: Any, send: Any) -> None:
            response = PlainTextResponse("ok", headers={"X-Correlation-ID": "from-app"})
            await response(scope, receive, send)

        async def main() -> httpx.Response:
            transport = httpx.ASGITransport(app=CorrelationMiddleware(app_with_header))
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await client.get("/", headers={"X-Correlation-ID": "from-client"})

        configure()
        response = run_async(main())
        assert response.headers.get_list("x-correlation-id") == ["from-client"]

    def test_websocket_gets_an_id_and_is_otherwise_untouched(self, configure: Configure) -> None:
        """A WebSocket connection has an ID bound for its lifetime; its messages pass unchanged."""
        configure()
        scope = {"type": "websocket", "path": "/ws", "headers": [(b"x-correlation-id", b"ws-7")]}
        incoming: list[dict[str, Any]] = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]
        sent: list[MutableMapping[str, Any]] = []
        original = {"type": "websocket.accept", "headers": [(b"x-app", b"1")]}

        async def app(scope: Any, receive: Any, send: Any) -> None:
            await receive()
            await send(original)
            await send({"type": "websocket.send", "text": get_correlation_id()})
            await receive()

        async def receive() -> dict[str, Any]:
            return incoming.pop(0)

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        run_async(CorrelationMiddleware(app)(scope, receive, send))
        assert sent == [original, {"type": "websocket.send", "text": "ws-7"}]
        assert sent[0] is original

    def test_lifespan_passes_through(self, configure: Configure) -> None:
        """Startup and shutdown reach the app untouched, with no ID bound."""
        seen: list[tuple[str, str | None]] = []
        incoming: list[dict[str, Any]] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
        sent: list[MutableMapping[str, Any]] = []

        async def lifespan_app(scope: Any, receive: Any, send: Any) -> None:
            for reply in ("lifespan.startup.complete", "lifespan.shutdown.complete"):
                message = await receive()
                seen.append((message["type"], get_correlation_id()))
                await send({"type": reply})

        async def receive() -> dict[str, Any]:
            return incoming.pop(0)

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        configure()
        run_async(CorrelationMiddleware(lifespan_app)({"type": "lifespan"}, receive, send))
        assert seen == [("lifespan.startup", None), ("lifespan.shutdown", None)]
        assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


class TestScopeAndProcessor:
    def test_scope_binds_and_resets(self) -> None:
        """correlation_scope binds an ID for a block (workers, jobs) and restores the previous one."""
        with correlation_scope("job-1") as outer:
            assert outer == "job-1" == get_correlation_id()
            with correlation_scope() as inner:
                assert is_uuid4(inner)
                assert get_correlation_id() == inner
            assert get_correlation_id() == "job-1"
        assert get_correlation_id() is None

    def test_scope_replaces_an_invalid_id(self) -> None:
        """An invalid ID given to a scope is replaced, as in the middleware."""
        with correlation_scope("bad id\n") as value:
            assert is_uuid4(value)

    @pytest.mark.parametrize(
        ("value", "valid"),
        [
            ("a", True),
            ("A.b-c_9", True),
            ("x" * 128, True),
            ("x" * 129, False),
            ("", False),
            ("a b", False),
            (None, False),
            (5, False),
        ],
    )
    def test_validity(self, value: Any, valid: bool) -> None:
        """1-128 characters of [A-Za-z0-9._-] are valid, nothing else."""
        assert is_valid_correlation_id(value) is valid

    def test_processor_adds_the_id_only_when_bound(self) -> None:
        """The processor adds correlation_id inside a scope and nothing outside."""
        assert add_correlation_id(None, "info", {}) == {}
        with correlation_scope("c-1"):
            assert add_correlation_id(None, "info", {}) == {"correlation_id": "c-1"}

    def test_lines_outside_requests_have_no_id(self, configure: Configure) -> None:
        """A line logged outside any request carries no correlation_id."""
        sink: Sink = configure()
        paylog.get_logger("p").info("startup")
        assert "correlation_id" not in sink.only()
