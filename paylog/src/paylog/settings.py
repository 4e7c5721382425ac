"""Resolved logger settings: explicit arguments first, then environment variables, then defaults.

Identity follows Datadog unified service tagging (`DD_SERVICE`, `DD_ENV`, `DD_VERSION`), falling back to
the variables our deployments set before it (`ENVIRONMENT`, `APP_VERSION`, `CLUSTER_NAME`).

Mode rule: an explicit `strict=` wins. Otherwise the logger is strict (catalogue violations raise) when
the resolved env is one of `STRICT_ENVS` or when no env is set at all (a developer's machine), and in
production mode (never raises) for every other env. Deployments always set `DD_ENV`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Final, Literal

from paylog.catalogue import LEVELS

STRICT_ENVS: Final = frozenset({"dev", "development", "local", "test", "testing", "ci"})
UNKNOWN: Final = "unknown"

EmailRedaction = Literal["mask", "hash"]
LogFormat = Literal["json", "console"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class ConfigError(ValueError):
    """A logger setting is invalid; the message names the setting, the value and the fix."""


@dataclass(frozen=True, slots=True)
class Settings:
    service: str = UNKNOWN
    env: str = UNKNOWN
    version: str = UNKNOWN
    cluster: str = UNKNOWN
    strict: bool = False
    min_level: str = "info"
    log_format: LogFormat = "json"
    sample_rate: float = 1.0
    email_redaction: EmailRedaction = "mask"
    anonymize_ip: bool = False
    max_string_length: int = 8192
    extra_sensitive_keys: frozenset[str] = frozenset()
    stream: IO[Any] | None = field(default=None, repr=False)
    """Where lines go; None means the `sys.stdout` of the moment the logger is configured."""
    clock: Callable[[], datetime] | None = field(default=None, repr=False)
    """Returns an aware datetime for each line; None means the system clock (for replay and tests)."""

    def __post_init__(self) -> None:
        if self.min_level not in LEVELS:
            raise ConfigError(f"min_level={self.min_level!r} is not a level; use one of {', '.join(LEVELS)}")
        if self.log_format not in ("json", "console"):
            raise ConfigError(f"log format {self.log_format!r} is unknown; use 'json' or 'console'")
        if not 0.0 <= self.sample_rate <= 1.0:
            raise ConfigError(f"sample_rate={self.sample_rate!r} is outside 0..1; 1.0 keeps every line")
        if self.email_redaction not in ("mask", "hash"):
            raise ConfigError(f"email_redaction={self.email_redaction!r} is unknown; use 'mask' or 'hash'")
        if self.max_string_length < 64:
            raise ConfigError(f"max_string_length={self.max_string_length} is too small; use at least 64")
        for name in ("service", "env", "version", "cluster"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{name}={value!r} must be a non-empty string")


def _first(environ: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def _env_float(environ: Mapping[str, str], name: str) -> float | None:
    raw = _first(environ, name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number; set it to a rate between 0 and 1") from None


def _env_bool(environ: Mapping[str, str], name: str) -> bool | None:
    raw = environ.get(name)
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean; use true or false")


def resolve_settings(
    *,
    service: str | None = None,
    env: str | None = None,
    version: str | None = None,
    cluster: str | None = None,
    strict: bool | None = None,
    min_level: str | None = None,
    log_format: str | None = None,
    sample_rate: float | None = None,
    email_redaction: str | None = None,
    anonymize_ip: bool | None = None,
    max_string_length: int | None = None,
    extra_sensitive_keys: frozenset[str] | set[str] | tuple[str, ...] | None = None,
    stream: IO[Any] | None = None,
    clock: Callable[[], datetime] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from arguments, then `environ` (default: the process environment), then defaults."""
    environ = os.environ if environ is None else environ
    given_env = env or _first(environ, "DD_ENV", "ENVIRONMENT")
    resolved_env = given_env or UNKNOWN
    rate = sample_rate if sample_rate is not None else _env_float(environ, "LOG_SAMPLE_RATE")
    anonymize = anonymize_ip if anonymize_ip is not None else _env_bool(environ, "LOG_ANONYMIZE_IP")
    level = (min_level or _first(environ, "LOG_LEVEL") or "info").lower()
    # As before: LOG_FORMAT=console selects the console renderer, any other value means JSON.
    fmt = log_format or ("console" if (_first(environ, "LOG_FORMAT") or "").lower() == "console" else "json")
    email = (email_redaction or _first(environ, "LOG_EMAIL_REDACTION") or "mask").lower()
    return Settings(
        service=service or _first(environ, "DD_SERVICE") or UNKNOWN,
        env=resolved_env,
        version=version or _first(environ, "DD_VERSION", "APP_VERSION") or UNKNOWN,
        cluster=cluster or _first(environ, "DD_CLUSTER_NAME", "CLUSTER_NAME") or UNKNOWN,
        strict=strict if strict is not None else given_env is None or given_env.lower() in STRICT_ENVS,
        min_level="warning" if level == "warn" else level,
        log_format=fmt,  # type: ignore[arg-type]  # checked in __post_init__
        sample_rate=1.0 if rate is None else rate,
        email_redaction=email,  # type: ignore[arg-type]  # checked in __post_init__
        anonymize_ip=bool(anonymize),
        max_string_length=8192 if max_string_length is None else max_string_length,
        extra_sensitive_keys=frozenset(extra_sensitive_keys or ()),
        stream=stream if stream is not None else sys.stdout,
        clock=clock,
    )
