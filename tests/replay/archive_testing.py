"""Test support: logs as Datadog archives them, laid out as Datadog writes an archive, locally or in moto's S3.

Datadog's "Log Archives" docs (DataDog/documentation `content/en/logs/log_configuration/archives.md`, "Format of
the archives") give the object keys, `<prefix>/dt=YYYYMMDD/hour=HH/archive_HHmmss.SSSS.<id>.json.gz`, and each
log as one JSON object per line: `_id`, `date`, `host`, `source`, `service`, `status`, `message`, `attributes`
and `tags`, after the pipelines.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from logmon.emulator import Emulator
from logmon.logrecord import LogRecord
from logmon.rules.loader import RuleSet

LOGS_PER_OBJECT = 2000


def archived(record: LogRecord, number: int) -> dict[str, Any]:
    """A processed log in the archive's format; the date truncated to milliseconds as the archive writes it."""
    assert record.timestamp is not None
    millis = math.floor(record.timestamp * 1000)
    date = datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "_id": f"AAAAAZ{number:018d}",
        "date": date,
        "host": record.host,
        "source": record.source,
        "service": record.service,
        "status": record.status,
        "message": record.message,
        "attributes": record.attributes,
        "tags": record.tags,
    }


def archive_lines(rules: RuleSet, lines: Iterable[bytes]) -> Iterator[tuple[float, bytes]]:
    """Logger lines through the pipelines, as archive lines with their dates."""
    emulator = Emulator(rules)
    for number, line in enumerate(lines):
        record = emulator.process(orjson.loads(line))
        assert record.timestamp is not None
        yield record.timestamp, orjson.dumps(archived(record, number)) + b"\n"


def archive_objects(rules: RuleSet, lines: Iterable[bytes], prefix: str = "") -> dict[str, bytes]:
    """Archive key → gzipped object: each hour's logs in objects of at most LOGS_PER_OBJECT lines."""
    objects: dict[str, bytes] = {}
    batch: list[bytes] = []
    batch_hour: str | None = None
    batch_start = 0.0

    def flush() -> None:
        if not batch:
            return
        moment = datetime.fromtimestamp(batch_start, UTC)
        folder = moment.strftime("dt=%Y%m%d/hour=%H")
        name = f"archive_{moment.strftime('%H%M%S')}.{len(objects):04d}.7dq1a9mnSya3bFotoErf{len(objects):02d}.json.gz"
        objects[f"{prefix}{folder}/{name}"] = gzip.compress(b"".join(batch))
        batch.clear()

    for timestamp, line in archive_lines(rules, lines):
        hour = datetime.fromtimestamp(timestamp, UTC).strftime("%Y%m%d%H")
        if hour != batch_hour or len(batch) >= LOGS_PER_OBJECT:
            flush()
            batch_hour, batch_start = hour, timestamp
        batch.append(line)
    flush()
    return objects


def write_local(objects: dict[str, bytes], root: Path) -> Path:
    for key, body in objects.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return root


def upload(client: Any, bucket: str, objects: dict[str, bytes]) -> None:
    client.create_bucket(Bucket=bucket)
    for key, body in objects.items():
        client.put_object(Bucket=bucket, Key=key, Body=body)
