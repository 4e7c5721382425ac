"""Request correlation: one ID per request, on every line logged while handling it.

`CorrelationMiddleware` is a pure ASGI middleware. It accepts an incoming `X-Correlation-ID` only when it
is 1-128 characters of `[A-Za-z0-9._-]` and carries no card number (anything else could inject text or
card data into log lines; the logger writes the ID unscanned), otherwise generates a UUID4, keeps it in
a context variable for the duration of the request and echoes it on the response.

When the application raises before it starts its response, the middleware answers a plain 500 that
carries the header itself (the framework's own error responder sits outside it and never sees the
header), then re-raises with the ID still bound, so the framework's error handler and the server log
the failure with `correlation_id`. Code outside HTTP (workers, scheduled jobs) opens
`correlation_scope()` instead.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final, TypeGuard

from structlog.typing import EventDict, WrappedLogger

from paylog.redaction import mask_card_numbers

HEADER: Final = "X-Correlation-ID"
MAX_LENGTH: Final = 128
_VALID = re.compile(r"[A-Za-z0-9._-]{1,128}")

CORRELATION_ID: Final[ContextVar[str | None]] = ContextVar("paylog.correlation_id", default=None)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def get_correlation_id() -> str | None:
    """The current request's correlation ID, or None outside a request or scope."""
    return CORRELATION_ID.get()


def new_correlation_id() -> str:
    return str(uuid.uuid4())


def is_valid_correlation_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _VALID.fullmatch(value) is not None and mask_card_numbers(value) == value


@contextmanager
def correlation_scope(correlation_id: str | None = None) -> Iterator[str]:
    """Bind a correlation ID (the given one if valid, else a new UUID4) for the duration of the block."""
    value = correlation_id if is_valid_correlation_id(correlation_id) else new_correlation_id()
    token = CORRELATION_ID.set(value)
    try:
        yield value
    finally:
        CORRELATION_ID.reset(token)


def add_correlation_id(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    correlation_id = CORRELATION_ID.get()
    if correlation_id is not None:
        event_dict["correlation_id"] = correlation_id
    return event_dict


def _incoming(scope: Scope, header: bytes) -> str | None:
    for name, value in scope.get("headers") or ():
        if name.lower() == header:
            text = value.decode("latin-1")
            return text if is_valid_correlation_id(text) else None
    return None


class CorrelationMiddleware:
    """Pure ASGI middleware; see the module docstring.

    HTTP requests get the ID bound and echoed. WebSocket connections get it bound for their lifetime
    (their messages are left alone); lifespan and any other scope pass straight through.
    """

    def __init__(self, app: ASGIApp, header: str = HEADER) -> None:
        self.app = app
        self._header = header.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        correlation_id = _incoming(scope, self._header) or new_correlation_id()
        state = scope.setdefault("state", {})
        if isinstance(state, MutableMapping):
            state["correlation_id"] = correlation_id
        token = CORRELATION_ID.set(correlation_id)
        if kind != "http":
            try:
                await self.app(scope, receive, send)
            finally:
                CORRELATION_ID.reset(token)
            return
        started = False
        header = (self._header, correlation_id.encode("latin-1"))

        async def send_with_header(message: Message) -> None:
            nonlocal started
            if message.get("type") == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers") or () if k.lower() != self._header]
                headers.append(header)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        except Exception:
            # The ID stays bound (this task ends with the request), so the outer error handler's line and
            # the server's traceback carry it.
            if not started:
                await _internal_error(send, header)
            raise
        CORRELATION_ID.reset(token)


async def _internal_error(send: Send, header: tuple[bytes, bytes]) -> None:
    body = b"Internal Server Error"
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()), header]
    try:
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    except Exception:
        return  # the client went away; the original error is what matters
