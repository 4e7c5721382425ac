"""Where `logmon replay` reads its lines: files, standard input, gzip, directories, globs and Datadog's archive.

An argument is `-` (standard input), a file (`.gz` is decompressed as it is read), a directory (every log file
under it), a glob (`logs/*.ndjson.gz`), or `s3://bucket/prefix`. A directory or prefix laid out the way Datadog
writes a log archive (`dt=YYYYMMDD/hour=HH/archive_*.json.gz`) is read as an archive: only its archive objects,
in the order Datadog wrote them, and only the hours `--from`/`--to` select.

Every source is streamed line by line, so memory stays flat whatever the size of a file or of an archive day;
S3 objects are read as they download, never fetched whole. S3 is reached with boto3's standard credential chain
(environment, shared profile, SSO, the instance or pod role).
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import IO, Any, Literal

ARCHIVE_OBJECT = re.compile(r"(?:^|/)dt=(?P<day>[0-9]{8})/hour=(?P<hour>[0-9]{2})/archive_[^/]*\.json\.gz$")
"""An object of a Datadog log archive: `<prefix>/dt=YYYYMMDD/hour=HH/archive_HHmmss.SSSS.<id>.json.gz`."""
LOG_FILE_SUFFIXES = (".ndjson", ".jsonl", ".json", ".log")
"""Files a plain directory contributes, each also when gzipped (`.ndjson.gz`)."""
GLOB_CHARACTERS = re.compile(r"[*?\[]")
STANDARD_INPUT = "-"
READ_BUFFER = 1 << 20
"""Bytes read from a stream at a time: large enough that an S3 object is fetched in few requests."""


class InputProblem(Exception):
    """An argument that names nothing readable, or an archive that cannot be listed: one line for the user."""


@dataclass(frozen=True, slots=True)
class HourRange:
    """The archive hours to read, `start` inclusive and `end` exclusive; either end may be open."""

    start: datetime | None = None
    end: datetime | None = None

    def selects(self, day: str, hour: str) -> bool:
        moment = datetime.strptime(f"{day}{hour}", "%Y%m%d%H").replace(tzinfo=UTC)
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)

    def days(self) -> list[str] | None:
        """The `dt=` folders that can hold selected hours, when both ends are known."""
        if self.start is None or self.end is None:
            return None
        day = self.start.replace(hour=0)
        days = []
        while day < self.end:
            days.append(day.strftime("%Y%m%d"))
            day += timedelta(days=1)
        return days


def parse_hour(text: str, option: str) -> datetime:
    """`2026-01-05`, `2026-01-05T13` or `2026-01-05T13:00Z` as a UTC hour; InputProblem otherwise."""
    value = text.strip()
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}", value):
        value += ":00"
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise InputProblem(
            f"{option} {text!r} is not a date or hour; write it as 2026-01-05 or 2026-01-05T13 (UTC)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if (moment.minute, moment.second, moment.microsecond) != (0, 0, 0):
        raise InputProblem(f"{option} {text!r} is not on the hour; archives are read by whole hours")
    return moment


def hour_range(start: str | None, end: str | None) -> HourRange | None:
    """The `--from`/`--to` selection, None when neither is given."""
    if start is None and end is None:
        return None
    selection = HourRange(
        parse_hour(start, "--from") if start is not None else None,
        parse_hour(end, "--to") if end is not None else None,
    )
    if selection.start is not None and selection.end is not None and selection.start >= selection.end:
        raise InputProblem(f"--from {start} is not before --to {end}; --to is the first hour not read")
    return selection


@dataclass(frozen=True, slots=True)
class Source:
    """One stream of lines. Only names and numbers: a source pickles, so another process can read it."""

    location: str
    """`-`, a local path, or `s3://bucket/key`."""
    size: int | None = None
    """Bytes as stored (compressed for `.gz`); None for standard input."""
    archive: bool = False
    """An object of a Datadog archive (`dt=/hour=/archive_*.json.gz`)."""

    @property
    def compressed(self) -> bool:
        return self.location.endswith(".gz")

    def lines(self) -> Iterator[bytes]:
        """The source's lines, each with its line ending, read as they arrive."""
        with ExitStack() as opened:
            raw: IO[bytes]
            if self.location == STANDARD_INPUT:
                raw = sys.stdin.buffer  # read, never closed: it is not ours
            elif self.location.startswith("s3://"):
                bucket, key = split_s3_url(self.location)
                try:
                    body = _s3_client().get_object(Bucket=bucket, Key=key)["Body"]
                except Exception as error:
                    raise InputProblem(f"cannot read {self.location}: {_aws_reason(error)}") from None
                raw = opened.enter_context(io.BufferedReader(_Stream(body), READ_BUFFER))
            else:
                raw = opened.enter_context(open(self.location, "rb", buffering=READ_BUFFER))
            if self.compressed:
                # GzipFile leaves the stream it reads open, so both are closed on the way out.
                yield from opened.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
            else:
                yield from raw


class _Stream(io.RawIOBase):
    """A botocore StreamingBody as a raw stream, so the standard buffered and gzip readers can wrap it."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            chunk = self._body.read(len(buffer))
        except Exception as error:
            # A connection lost mid-object: an unreadable source, like a truncated file.
            raise OSError(f"the download broke off: {type(error).__name__}: {error}") from error
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._body.close()
        super().close()


@dataclass(frozen=True)
class Inputs:
    sources: list[Source]
    location: Literal["stdin", "local", "s3", "mixed"]
    hours: HourRange | None = None

    @property
    def archive_layout(self) -> bool:
        return bool(self.sources) and all(source.archive for source in self.sources)

    @property
    def known_size(self) -> int | None:
        """Total bytes to read when every source is an uncompressed local file (a progress bar's total)."""
        if any(source.size is None or source.compressed for source in self.sources):
            return None
        return sum(source.size or 0 for source in self.sources)


def resolve(arguments: Iterable[str], hours: HourRange | None = None) -> Inputs:
    """Every source the arguments name, in order; InputProblem for one that names nothing readable."""
    sources: list[Source] = []
    places: set[str] = set()
    for argument in arguments:
        if argument == STANDARD_INPUT:
            found = [Source(STANDARD_INPUT)]
            places.add("stdin")
        elif argument.startswith("s3://"):
            found = _s3_sources(argument, hours)
            places.add("s3")
        else:
            found = _local_sources(argument, hours)
            places.add("local")
        sources += found
    if hours is not None and not all(source.archive for source in sources):
        plain = next(source.location for source in sources if not source.archive)
        raise InputProblem(
            f"--from/--to select hours of a Datadog archive (dt=YYYYMMDD/hour=HH/archive_*.json.gz), and {plain} "
            "is not part of one; drop --from/--to or point at the archive"
        )
    location: Literal["stdin", "local", "s3", "mixed"] = places.pop() if len(places) == 1 else "mixed"  # type: ignore[assignment]
    return Inputs(sources, location, hours)


def _local_sources(argument: str, hours: HourRange | None) -> list[Source]:
    path = Path(argument)
    if path.is_file():
        return [_file_source(path)]
    if path.is_dir():
        found = _directory_sources(path, hours)
        if not found:
            what = "archive objects in the selected hours" if hours is not None else "log files"
            raise InputProblem(f"no log file in {argument}: no {what} under it")
        return found
    if GLOB_CHARACTERS.search(argument):
        matches = sorted(glob.glob(argument, recursive=True))
        found = []
        for match in matches:
            matched = Path(match)
            if matched.is_file():
                found.append(_file_source(matched))
            elif matched.is_dir():
                found += _directory_sources(matched, hours)
        if not found:
            raise InputProblem(f"no log file matches {argument}")
        return found
    raise InputProblem(f"no log file at {argument}")


def _file_source(path: Path) -> Source:
    return Source(str(path), path.stat().st_size, ARCHIVE_OBJECT.search(path.as_posix()) is not None)


def _directory_sources(directory: Path, hours: HourRange | None) -> list[Source]:
    """An archive's objects when the directory holds any, else every log file under it; sorted, hidden skipped."""
    files = sorted(
        path
        for path in directory.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    )
    archive = [path for path in files if ARCHIVE_OBJECT.search(path.as_posix())]
    if archive:
        return [_file_source(path) for path in archive if hours is None or _selected(path.as_posix(), hours)]
    return [_file_source(path) for path in files if path.name.removesuffix(".gz").endswith(LOG_FILE_SUFFIXES)]


def _selected(location: str, hours: HourRange) -> bool:
    match = ARCHIVE_OBJECT.search(location)
    return match is not None and hours.selects(match["day"], match["hour"])


def split_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/key` → (`bucket`, `some/key`)."""
    bucket, _, key = url.removeprefix("s3://").partition("/")
    return bucket, key


@cache
def _s3_client() -> Any:
    """One S3 client per process, from boto3's standard credential chain and configuration."""
    import boto3

    return boto3.session.Session().client("s3")


def _s3_sources(url: str, hours: HourRange | None) -> list[Source]:
    """The archive objects under an S3 prefix (only the selected days are listed), or the objects it names."""
    bucket, prefix = split_s3_url(url)
    if not bucket:
        raise InputProblem(f"{url} names no bucket; write s3://bucket/prefix")
    base = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    days = hours.days() if hours is not None else None
    listings = [f"{base}dt={day}/" for day in days] if days is not None else [prefix]
    objects: list[Source] = []
    try:
        for listed in listings:
            objects += _listed(bucket, listed)
    except Exception as error:
        raise InputProblem(f"cannot list {url}: {_aws_reason(error)}") from None
    archive = [source for source in objects if source.archive]
    if archive:
        return [
            source
            for source in archive
            if (hours is None or _selected(source.location, hours))
            and split_s3_url(source.location)[1].startswith(base if prefix else "")
        ]
    if hours is not None:
        raise InputProblem(f"no archive objects under {url} in the selected hours (dt=YYYYMMDD/hour=HH/archive_*)")
    exact = [source for source in objects if split_s3_url(source.location)[1] == prefix]
    if exact:
        return exact
    logs = [source for source in objects if source.location.removesuffix(".gz").endswith(LOG_FILE_SUFFIXES)]
    if not logs:
        raise InputProblem(f"no log objects under {url}")
    return logs


def _listed(bucket: str, prefix: str) -> Iterator[Source]:
    paginator = _s3_client().get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith("/"):
                continue
            yield Source(f"s3://{bucket}/{key}", int(item.get("Size", 0)), ARCHIVE_OBJECT.search(key) is not None)


def _aws_reason(error: Exception) -> str:
    """What went wrong talking to S3, with what to do about credentials when they are the problem."""
    name = type(error).__name__
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        details = response.get("Error", {})
        code, message = details.get("Code", name), details.get("Message", "")
        if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"):
            return f"{code}: {message}; check the AWS credentials in use (`aws sts get-caller-identity`)"
        return f"{code}: {message}".rstrip(": ")
    if name in ("NoCredentialsError", "PartialCredentialsError", "NoRegionError"):
        return (
            f"{error}; set AWS credentials the standard way (AWS_PROFILE, environment variables, SSO, or the "
            "instance or pod role)"
        )
    return f"{name}: {error}"


def describe(location: str) -> str:
    """A source's name as a report shows it: relative to the working directory when inside it."""
    if location == STANDARD_INPUT or location.startswith("s3://"):
        return location
    try:
        relative = os.path.relpath(location)
    except ValueError:
        return location
    return location if relative.startswith("..") else relative
