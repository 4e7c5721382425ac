"""The grok `url`, `querystring` and `useragent` filters: the URL and user-agent parser processors' work.

Datadog's parsing page says these filters produce what the processors of the same name produce, so they
call the processors' own parsing (`logmon.emulator.enrichers`): one implementation of each shape.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote


def query_string(text: str) -> dict[str, Any]:
    """`?a=1&b=x%20y` as `{"a": "1", "b": "x y"}`; a repeated key keeps its last value."""
    return dict(parse_qsl(text.lstrip("?"), keep_blank_values=False))


def url_details(url: str) -> dict[str, Any] | None:
    """The parts of a URL as the URL parser writes them; None when it is not one."""
    from logmon.emulator.enrichers import parse_url  # the enrichers build on the processors, which load grok

    parsed = parse_url(url)
    return None if parsed is None else parsed[0]


def useragent_details(text: str, *, decode: bool = False) -> dict[str, Any]:
    """Browser, device and OS of a user-agent string (URL-decoded first when `decode`)."""
    from logmon.emulator.enrichers import parse_user_agent

    details, _ = parse_user_agent(unquote(text) if decode else text)
    return {part: dict(fields) for part, fields in details.items()}  # the parse is cached: never share it
