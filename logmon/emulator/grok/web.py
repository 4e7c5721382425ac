"""URL, query-string and user-agent details, shaped as Datadog's URL and user-agent parsers write them.

Datadog's processor docs show the shapes (DataDog/documentation `processors/url_parser.md` and
`processors/user_agent_parser.md`): a URL becomes `{scheme, host, port, path, queryString}` with the port
of the scheme when the URL names none; a user agent becomes `{browser, device, os}` with the browser's
`family`/`major`/`minor`/`patch`/`patch_minor`, the device's `family`/`brand`/`model`/`category` and the
OS's `family`/`major`/`minor`/`patch`, all strings. The grok `url`, `querystring` and `useragent` filters
produce the same objects.
"""

from __future__ import annotations

import functools
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit

from ua_parser import parse as parse_user_agent

DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}
_MOBILE_OS: Final = frozenset({"Android", "iOS", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS"})
_DESKTOP_OS: Final = frozenset({"Windows", "Mac OS X", "Linux", "Ubuntu", "Fedora", "Chrome OS", "FreeBSD"})


def query_string(text: str) -> dict[str, Any]:
    """`?a=1&b=x%20y` as `{"a": "1", "b": "x y"}`; a repeated key keeps its last value."""
    return dict(parse_qsl(text.lstrip("?"), keep_blank_values=False))


def url_details(url: str) -> dict[str, Any] | None:
    """The parts of a URL; None when it is not one (no scheme and no path)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme and not parts.path:
        return None
    details: dict[str, Any] = {}
    if parts.scheme:
        details["scheme"] = parts.scheme
    if parts.hostname:
        details["host"] = parts.hostname
    if port is None:
        port = DEFAULT_PORTS.get(parts.scheme.lower())
    if port is not None:
        details["port"] = port
    details["path"] = parts.path or "/"
    if parts.query:
        details["queryString"] = query_string(parts.query)
    return details


def _kept(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "")}


def _category(device_family: str, os_family: str) -> str:
    if device_family == "Spider":
        return "Bot"
    if device_family in ("iPad",) or "Tablet" in device_family:
        return "Tablet"
    if os_family in _MOBILE_OS or device_family in ("iPhone",):
        return "Mobile"
    if os_family in _DESKTOP_OS:
        return "Desktop"
    return "Other"


@functools.lru_cache(maxsize=1024)
def _details(text: str) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    result = parse_user_agent(text)
    agent, system, device = result.user_agent, result.os, result.device
    browser = {
        "family": agent.family if agent else "Other",
        "major": agent.major if agent else None,
        "minor": agent.minor if agent else None,
        "patch": agent.patch if agent else None,
        "patch_minor": agent.patch_minor if agent else None,
    }
    os_values = {
        "family": system.family if system else "Other",
        "major": system.major if system else None,
        "minor": system.minor if system else None,
        "patch": system.patch if system else None,
    }
    device_family = device.family if device else "Other"
    device_values = {
        "family": device_family,
        "brand": device.brand if device else None,
        "model": device.model if device else None,
        "category": _category(device_family, str(os_values["family"])),
    }
    return tuple(
        (name, tuple(_kept(values).items()))
        for name, values in (("browser", browser), ("device", device_values), ("os", os_values))
    )


def useragent_details(text: str, *, decode: bool = False) -> dict[str, Any]:
    """Browser, device and OS of a user-agent string (URL-decoded first when `decode`)."""
    if decode:
        text = unquote(text)
    return {name: dict(values) for name, values in _details(text)}
