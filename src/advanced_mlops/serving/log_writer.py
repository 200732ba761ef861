"""The prediction log's rows, and the drain that moves them from the journal to the database.

The drain is one thread per worker: it inserts each sealed journal segment in one transaction,
oldest first (so the log keeps the order in which answers left), idempotently on the request id,
then deletes the segment. While the database is down it retries the same segment; the journal
keeps everything meanwhile, up to its limits (see journal.py). The thread never dies: every
failure is caught, and logged once when the state changes, not once per attempt.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from advanced_mlops.serving.journal import Journal, Segment
from advanced_mlops.store.bulk import insert_rows
from advanced_mlops.store.engine import connect
from advanced_mlops.store.tables import prediction_log, shadow_predictions

log = logging.getLogger(__name__)

SHADOW_OF = "shadow_of"  # the key that marks a journal record as a challenger's shadow result
LOG_COLUMNS = [c.name for c in prediction_log.columns if c.name != "id"]
# A shadow record's keys -> shadow_predictions' columns (the record format predates the table:
# journals written before it still replay).
SHADOW_RECORD = {
    SHADOW_OF: "request_id",
    **{f"shadow_{c.name}": c.name for c in shadow_predictions.columns if c.name != "request_id"},
}
SHADOW_COLUMNS = list(SHADOW_RECORD.values())


def log_row(
    record: Mapping[str, Any],
    answer: Mapping[str, Any],
    request_id: str,
    latency_ms: float,
    created_at: datetime,
) -> dict[str, Any]:
    """The prediction-log row of one answer (`predict_records` result plus `model_version` and,
    when the request asked for them, `reasons`)."""
    probabilities = answer["probabilities"]
    return {
        "request_id": request_id,
        "customer_id": record["customer_id"],
        "features": {k: v for k, v in record.items() if k != "customer_id"},
        "prediction": answer["credit_score"],
        "prob_poor": probabilities["Poor"],
        "prob_standard": probabilities["Standard"],
        "prob_good": probabilities["Good"],
        "model_version": answer["model_version"],
        "latency_ms": round(latency_ms, 3),
        "created_at": created_at,
        "reasons": answer.get("reasons"),
    }


def shadow_row(request_id: str, answer: Mapping[str, Any], version: str) -> dict[str, Any]:
    """The challenger's answer to a logged request, as its own journal record.

    Why a record of its own rather than a field of the log row: the row must be durable before
    the champion's answer leaves, and the challenger scores after that, so waiting for it would
    delay the answer. It becomes a row of shadow_predictions keyed on the request id, inserted
    in bulk with the log rows of its segment; repeating it (a replay) changes nothing."""
    probabilities = answer["probabilities"]
    return {
        SHADOW_OF: request_id,
        "shadow_version": version,
        "shadow_prediction": answer["credit_score"],
        "shadow_prob_poor": probabilities["Poor"],
        "shadow_prob_standard": probabilities["Standard"],
        "shadow_prob_good": probabilities["Good"],
    }


def write_rows(db_url: str, rows: list[dict[str, Any]], *, replace: bool = False) -> None:
    """Insert log rows and shadow results, each in bulk, in one transaction; `replace` makes a
    replay idempotent (both tables are keyed on the request id)."""
    logged = [row for row in rows if SHADOW_OF not in row]
    shadows = [
        {column: row.get(key) for key, column in SHADOW_RECORD.items()}
        for row in rows
        if SHADOW_OF in row
    ]
    with connect(db_url, write=True, bulk=True) as conn:
        insert_rows(conn, prediction_log, logged, LOG_COLUMNS, replace=replace)
        insert_rows(conn, shadow_predictions, shadows, SHADOW_COLUMNS, replace=replace)


class LogDrain:
    """Sealed segments -> database, in order; `healthy()` turns false after
    `unready_after_seconds` of failing."""

    def __init__(
        self,
        db_url: str,
        release: Callable[[Segment], None],
        *,
        retry_seconds: float = 1.0,
        unready_after_seconds: float = 30.0,
        on_event: Callable[[str, int], None] = lambda _kind, _n: None,
        on_tick: Callable[[], None] = lambda: None,
    ) -> None:
        self.db_url = db_url
        self.release = release
        self.retry_seconds = retry_seconds
        self.unready_after_seconds = unready_after_seconds
        self.on_event = on_event  # ("logged" | "replayed", rows)
        self.on_tick = on_tick  # about once a second and after each write: refresh gauges
        self.counts = {"logged": 0, "replayed": 0}
        self.failing_since: float | None = None
        self.failure: str | None = None
        self._queue: queue.Queue[Segment | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, segment: Segment) -> None:
        self._queue.put(segment)

    def healthy(self) -> bool:
        since = self.failing_since
        return since is None or time.monotonic() - since < self.unready_after_seconds

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued if the database lets us within `timeout`; whatever is left stays
        in the journal and is replayed at the next start."""
        self._queue.put(None)
        self._thread.join(timeout)
        self._stop.set()
        self._thread.join(self.retry_seconds + 5)

    def _run(self) -> None:
        while True:
            try:
                segment = self._queue.get(timeout=1.0)
            except queue.Empty:
                self._tick()
                continue
            if segment is None:
                return
            while not self._write(segment):
                self._tick()
                if self._stop.wait(self.retry_seconds):
                    return

    def _tick(self) -> None:
        try:
            self.on_tick()
        except Exception:
            log.exception("prediction log: metrics update failed")

    def _write(self, segment: Segment) -> bool:
        try:
            write_rows(self.db_url, segment.rows, replace=True)
            self.release(segment)
        except Exception as exc:  # anything: the thread must outlive it
            self._failing(exc)
            return False
        self._succeeding()
        kind = "replayed" if segment.replayed else "logged"
        self.counts[kind] += len(segment.rows)
        self.on_event(kind, len(segment.rows))
        self._tick()
        return True

    def _failing(self, exc: Exception) -> None:
        if self.failing_since is None:
            self.failing_since = time.monotonic()
            log.error(
                "prediction log: cannot write to the database (%s); the journal keeps every "
                "row, retrying every %ss",
                _short(exc), self.retry_seconds,
            )  # fmt: skip
        self.failure = _short(exc)

    def _succeeding(self) -> None:
        if self.failing_since is not None:
            log.warning("prediction log: writing to the database again after %.1fs",
                        time.monotonic() - self.failing_since)  # fmt: skip
            self.failing_since = None
            self.failure = None


def open_log(
    db_url: str,
    directory: Path,
    adopt: list[Path],
    *,
    segment_records: int,
    segment_seconds: float,
    max_bytes: int,
    max_records: int,
    retry_seconds: float,
    unready_after_seconds: float,
    on_event: Callable[[str, int], None] = lambda _kind, _n: None,
    on_tick: Callable[[], None] = lambda: None,
) -> tuple[Journal, LogDrain]:
    """A worker's journal and drain, started, with what a crash left queued for replay first."""
    drain = LogDrain(
        db_url,
        lambda segment: None,
        retry_seconds=retry_seconds,
        unready_after_seconds=unready_after_seconds,
        on_event=on_event,
        on_tick=on_tick,
    )
    journal = Journal(
        directory,
        drain.put,
        segment_records=segment_records,
        segment_seconds=segment_seconds,
        max_bytes=max_bytes,
        max_records=max_records,
        probe_seconds=retry_seconds,
    )
    drain.release = journal.release
    left = journal.recover(adopt)
    if left:
        log.warning("prediction journal: replaying %d row(s) left in %s",
                    sum(len(s.rows) for s in left), directory)  # fmt: skip
    for segment in left:
        drain.put(segment)
    journal.start()
    drain.start()
    return journal, drain


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
