"""A durable local spool for log rows the database could not take.

Append-only JSON-lines segments, flushed and fsync'd once per appended batch; a segment is
deleted only after the database has accepted all of its rows. Replay inserts by the unique
request id, so a crash between insert and delete cannot duplicate a row.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any


class Spool:
    """Used by one writer thread only: no locking."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._current: Path | None = None

    def append(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if self._current is None:
            self._current = self.directory / f"segment-{time.time_ns()}.jsonl"
        with self._current.open("a", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row, default=_encode) + "\n" for row in rows)
            handle.flush()
            os.fsync(handle.fileno())

    def segments(self) -> list[Path]:
        """Oldest first; closes the current segment so new rows start a new one."""
        self._current = None
        return sorted(self.directory.glob("segment-*.jsonl"))

    def pending(self) -> bool:
        return any(self.directory.glob("segment-*.jsonl"))

    @staticmethod
    def read(segment: Path) -> list[dict[str, Any]]:
        rows = []
        for line in segment.read_text(encoding="utf-8").splitlines():
            if line.strip():  # a torn last line from a crash is skipped, not fatal
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                row["created_at"] = datetime.fromisoformat(row["created_at"])
                rows.append(row)
        return rows

    @staticmethod
    def remove(segment: Path) -> None:
        segment.unlink(missing_ok=True)


def _encode(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot spool {type(value).__name__}")
