"""The write-ahead journal of the prediction log: an answer leaves only once its row is on disk.

Each worker appends to its own folder of numbered segment files. A record is framed as
`MAGIC | length | crc32 | JSON`, so a torn last write (a crash mid-append) and a damaged record
are told apart from good ones. Appends from concurrent requests are written together and share
one `fsync` (group commit) in a dedicated thread; the request awaits a future, never the disk.
A segment is sealed after `segment_records` records or `segment_seconds`, handed to the drain
(log_writer.py), and deleted only once the database has committed its rows; the drain inserts
idempotently on the request id, so a crash between commit and deletion duplicates nothing.
Creating a segment fsyncs the folder too, or a power cut could forget the file existed.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from advanced_mlops.serving.journal_records import Row, decode, encode

log = logging.getLogger(__name__)

SUFFIX = ".wal"


# --- segments on disk ------------------------------------------------------------------------


@dataclass
class Segment:
    """A journal file and its rows (kept in memory so the drain need not read them back)."""

    seq: int
    path: Path
    rows: list[Row] = field(default_factory=list)
    size: int = 0
    first_at: float = 0.0  # wall time of its first record: the oldest-unlogged age
    replayed: bool = False


def segment_path(directory: Path, seq: int) -> Path:
    return directory / f"{seq:016d}{SUFFIX}"


def segment_files(directory: Path) -> list[Path]:
    """Oldest first (the names are zero-padded sequence numbers)."""
    return sorted(directory.glob(f"*{SUFFIX}"))


def fsync_directory(directory: Path) -> None:
    """Make a created, renamed or deleted file's entry durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_segment(path: Path, seq: int) -> Segment:
    """A segment left by an earlier run; unreadable bytes are moved aside and logged."""
    data = path.read_bytes()
    rows, bad = decode(data)
    for damage in bad:
        aside = path.parent / "unreadable" / f"{path.stem}.{damage.start}.bad"
        aside.parent.mkdir(exist_ok=True)
        aside.write_bytes(data[damage.start : damage.end])
        kind = "torn last record" if damage.torn else "damaged record(s)"
        log.error(
            "prediction journal: %s in %s at bytes %d-%d, kept in %s",
            kind, path, damage.start, damage.end, aside,
        )  # fmt: skip
    return Segment(seq, path, rows, len(data), path.stat().st_mtime, replayed=True)


class JournalRefusedError(Exception):
    """The journal cannot take a record now: the answer must not be given."""


class JournalInUseError(Exception):
    """Another live process holds this journal folder."""


# --- the journal -----------------------------------------------------------------------------


@dataclass
class _Append:
    data: bytes
    rows: list[Row]
    future: Future[None]


class Journal:
    """Group-committing appender of one worker's folder; thread-safe `append`."""

    def __init__(
        self,
        directory: Path,
        on_sealed: Callable[[Segment], None],
        *,
        segment_records: int = 500,
        segment_seconds: float = 1.0,
        max_bytes: int = 256 * 1024 * 1024,
        max_records: int = 200_000,
        probe_seconds: float = 1.0,
    ) -> None:
        self.directory = directory
        self.on_sealed = on_sealed
        self.segment_records = segment_records
        self.segment_seconds = segment_seconds
        self.max_bytes = max_bytes
        self.max_records = max_records
        self.probe_seconds = probe_seconds
        self.fsyncs = 0
        self.failure: str | None = None  # why the last write failed, until one succeeds
        self.bytes = 0  # not yet in the database (pending, written or sealed)
        self.records = 0
        directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock(directory)
        self._cond = threading.Condition()
        self._pending: list[_Append] = []
        self._undrained: dict[int, Segment] = {}
        self._active: Segment | None = None
        self._fd: int | None = None
        self._opened = 0.0
        self._stopping = False
        self._next_seq = 1
        self._thread = threading.Thread(target=self._run, name="journal-fsync", daemon=True)

    # -- start-up

    def recover(self, adopt: Sequence[Path] = ()) -> list[Segment]:
        """Segments a crash left (this folder's, plus `adopt`'s: folders of workers that no
        longer exist), oldest first, for the drain to replay before anything new."""
        for other in adopt:
            self._adopt(other)
        found = []
        for path in segment_files(self.directory):
            seq = int(path.stem)
            segment = read_segment(path, seq)
            found.append(segment)
            self._undrained[seq] = segment
            self.bytes += segment.size
            self.records += len(segment.rows)
            self._next_seq = max(self._next_seq, seq + 1)
        return found

    def _adopt(self, other: Path) -> None:
        try:
            lock_fd = _lock(other)
        except JournalInUseError:
            return  # its worker is alive after all
        try:
            files = segment_files(other)
            if not files:
                return
            first = max([int(p.stem) for p in segment_files(self.directory)] or [0]) + 1
            for offset, path in enumerate(files):
                path.rename(segment_path(self.directory, first + offset))
            fsync_directory(self.directory)
            fsync_directory(other)
            log.info("prediction journal: adopted %d segment(s) from %s", len(files), other)
        finally:
            os.close(lock_fd)

    def start(self) -> None:
        self._thread.start()

    # -- the request path

    def append(self, rows: list[Row], *, ride_along: bool = False) -> Future[None]:
        """A future done when the rows are durable; JournalRefusedError (raised, or set on the
        future) when they cannot be recorded. `ride_along` rows (nobody awaits them: shadow
        results) do not wake the fsync thread: they join the next commit of awaited rows, or the
        idle thread's next tick (`segment_seconds` at most), instead of costing an fsync each."""
        data = b"".join(encode(row) for row in rows)
        future: Future[None] = Future()
        future.set_running_or_notify_cancel()  # a cancelled request cannot cancel the write
        with self._cond:
            if self._stopping:
                raise JournalRefusedError("the service is stopping")
            bytes_after, records_after = self.bytes + len(data), self.records + len(rows)
            if bytes_after > self.max_bytes or records_after > self.max_records:
                raise JournalRefusedError(
                    f"the prediction journal is full ({self.records} records, {self.bytes} bytes "
                    "not yet in the database)"
                )
            self.bytes += len(data)
            self.records += len(rows)
            self._pending.append(_Append(data, rows, future))
            if not ride_along:
                self._cond.notify()
        return future

    def can_record(self) -> bool:
        with self._cond:
            full = self.bytes >= self.max_bytes or self.records >= self.max_records
        return self.failure is None and not full and not self._stopping

    def oldest_unlogged_age(self) -> float:
        """Seconds since the oldest record not yet in the database arrived (0 when none)."""
        with self._cond:
            starts = [s.first_at for s in self._undrained.values() if s.rows]
            if self._active is not None and self._active.rows:
                starts.append(self._active.first_at)
        return max(0.0, time.time() - min(starts)) if starts else 0.0

    def release(self, segment: Segment) -> None:
        """The drain committed `segment`'s rows: delete it and forget its weight."""
        segment.path.unlink(missing_ok=True)
        with self._cond:
            if self._undrained.pop(segment.seq, None) is not None:
                self.bytes -= segment.size
                self.records -= len(segment.rows)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is pending, seal the active segment, stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)
        os.close(self._lock_fd)

    # -- the fsync thread

    def _run(self) -> None:
        while True:
            try:
                if not self._step():
                    return
            except Exception:  # never die silently: the requests would wait forever
                log.exception("prediction journal: unexpected error; continuing")
                time.sleep(self.probe_seconds)

    def _step(self) -> bool:
        with self._cond:
            while not (self._pending or self._stopping or self._roll_due()):
                self._cond.wait(self._wait_seconds())
                if self.failure is not None and not self._pending:
                    break
            batch, self._pending = self._pending, []
            stopping = self._stopping
        if batch:
            self._commit(batch)
        elif self.failure is not None and not stopping:
            self._probe()
        if self._roll_due() or stopping:
            self._seal()
        return not (stopping and not batch)

    def _wait_seconds(self) -> float:
        """Never unbounded: ride-along rows appended meanwhile wait for this tick at most."""
        if self.failure is not None:
            return self.probe_seconds
        if self._active is not None and self._active.rows:
            return max(0.001, self._opened + self.segment_seconds - time.monotonic())
        return self.segment_seconds

    def _roll_due(self) -> bool:
        active = self._active
        return active is not None and (
            len(active.rows) >= self.segment_records
            or (bool(active.rows) and time.monotonic() - self._opened >= self.segment_seconds)
        )

    def _commit(self, batch: list[_Append]) -> None:
        data = b"".join(item.data for item in batch)
        try:
            fd = self._open_active()
            _write_all(fd, data)
            os.fsync(fd)
        except OSError as exc:
            self._failed(exc)
            with self._cond:
                self.bytes -= len(data)
                self.records -= sum(len(item.rows) for item in batch)
            reason = exc.strerror or str(exc)
            refusal = JournalRefusedError(f"the prediction journal cannot write: {reason}")
            for item in batch:
                item.future.set_exception(refusal)
            return
        self.fsyncs += 1
        assert self._active is not None
        with self._cond:
            if not self._active.rows:
                self._active.first_at = time.time()
                self._opened = time.monotonic()
            for item in batch:
                self._active.rows.extend(item.rows)
            self._active.size += len(data)
        self._recovered()
        for item in batch:
            item.future.set_result(None)

    def _open_active(self) -> int:
        if self._fd is not None:
            return self._fd
        seq = self._next_seq
        path = segment_path(self.directory, seq)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fsync_directory(self.directory)
        except OSError:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        self._next_seq += 1
        self._fd = fd
        self._opened = time.monotonic()
        with self._cond:
            self._active = Segment(seq, path)
        return fd

    def _seal(self) -> None:
        """Close the active segment and hand it to the drain (an empty one is just deleted)."""
        active, fd = self._active, self._fd
        if active is None or fd is None:
            return
        os.close(fd)
        self._fd = None
        with self._cond:
            self._active = None
            if active.rows:
                self._undrained[active.seq] = active
        if active.rows:
            self.on_sealed(active)
        else:
            active.path.unlink(missing_ok=True)

    def _failed(self, exc: OSError) -> None:
        """Cut the partial write back off, start a new segment next time, report once."""
        if self._fd is not None and self._active is not None:
            with contextlib.suppress(OSError):  # else the reader moves the damaged tail aside
                os.ftruncate(self._fd, self._active.size)
            self._seal()
        reason = exc.strerror or str(exc)
        if self.failure is None:
            log.error("prediction journal: cannot write in %s (%s): refusing predictions",
                      self.directory, reason)  # fmt: skip
        self.failure = reason

    def _recovered(self) -> None:
        if self.failure is not None:
            log.warning("prediction journal: writing again in %s", self.directory)
            self.failure = None

    def _probe(self) -> None:
        """While failing and idle: can the disk take a write again? (For /readyz to recover
        without traffic, which a load balancer does not send to an unready service.)"""
        probe = self.directory / "probe.tmp"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                _write_all(fd, b"\0" * 65536)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            return
        finally:
            probe.unlink(missing_ok=True)
        self._recovered()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _lock(directory: Path) -> int:
    """An exclusive lock on the folder for this process's life (released by the kernel when the
    process dies, however it dies)."""
    fd = os.open(directory / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise JournalInUseError(f"{directory} is in use by another process") from None
    return fd
