"""The journal's record format: `MAGIC | length | crc32 | JSON`, and reading it back.

Pure functions on bytes. A reader must tell a torn last write (a crash cut the append short: the
record was never acknowledged) from damage in the middle (a bad disk, a stray write), and go on
reading the good records after either.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAGIC = b"PLJ1"
HEADER = struct.Struct("<4sII")  # magic, payload length, crc32 of the payload
MAX_RECORD = 16 * 1024 * 1024

Row = dict[str, Any]


def encode(row: Row) -> bytes:
    """One framed record."""
    payload = json.dumps(row, default=_encode_value, separators=(",", ":")).encode()
    return HEADER.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def _encode_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot journal a {type(value).__name__}")


def _decode_row(payload: bytes) -> Row:
    row: Row = json.loads(payload)
    if "created_at" in row:
        row["created_at"] = datetime.fromisoformat(row["created_at"])
    return row


@dataclass(frozen=True)
class Unreadable:
    """Bytes of a segment that are not a good record: `torn` when they end the segment
    (an append the crash cut short, never acknowledged), else damaged."""

    start: int
    end: int
    torn: bool


def decode(data: bytes) -> tuple[list[Row], list[Unreadable]]:
    """Every good record in order, and the byte ranges that are not good records."""
    rows: list[Row] = []
    bad: list[Unreadable] = []
    offset = 0
    while offset < len(data):
        end = _good_record_end(data, offset)
        if end is not None:
            rows.append(_decode_row(data[offset + HEADER.size : end]))
            offset = end
            continue
        resume = _next_good_record(data, offset + 1)
        bad.append(Unreadable(offset, resume, torn=resume == len(data)))
        offset = resume
    return rows, bad


def _good_record_end(data: bytes, offset: int) -> int | None:
    if len(data) - offset < HEADER.size:
        return None
    magic, length, crc = HEADER.unpack_from(data, offset)
    end: int = offset + HEADER.size + length
    if magic != MAGIC or length > MAX_RECORD or end > len(data):
        return None
    payload = data[offset + HEADER.size : end]
    if zlib.crc32(payload) != crc:
        return None
    try:
        json.loads(payload)
    except ValueError:
        return None
    return end


def _next_good_record(data: bytes, start: int) -> int:
    """Where reading resumes after damage: the next offset holding a whole good record."""
    position = data.find(MAGIC, start)
    while position != -1:
        if _good_record_end(data, position) is not None:
            return position
        position = data.find(MAGIC, position + 1)
    return len(data)
