"""The prediction-log writer: a background thread that inserts in batches, off the request path.

Requests only put a row on an in-memory queue. The thread writes batches to the database; when
the database is down or failing, rows go to the local spool (in arrival order) and new rows follow
them there until the spool has been replayed, so the log keeps the order in which answers left.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from advanced_mlops.serving.spool import Spool
from advanced_mlops.store.bulk import insert_frame
from advanced_mlops.store.engine import connect
from advanced_mlops.store.tables import prediction_log

log = logging.getLogger(__name__)

LOG_COLUMNS = [c.name for c in prediction_log.columns if c.name != "id"]


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


def write_rows(db_url: str, rows: list[dict[str, Any]], *, replace: bool = False) -> None:
    """Insert log rows in one transaction; `replace` makes a replay idempotent."""
    with connect(db_url, write=True) as conn:
        insert_frame(conn, prediction_log, pd.DataFrame(rows, columns=LOG_COLUMNS), replace=replace)


class LogWriter:
    def __init__(
        self,
        db_url: str,
        spool: Spool,
        batch_size: int = 500,
        flush_seconds: float = 0.2,
        retry_seconds: float = 1.0,
        on_event: Callable[[str, int], None] = lambda _kind, _n: None,
    ) -> None:
        self.db_url = db_url
        self.spool = spool
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.retry_seconds = retry_seconds
        self.on_event = on_event  # ("logged" | "spooled" | "replayed", rows)
        self.counts = {"logged": 0, "spooled": 0, "replayed": 0}
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stopping = threading.Event()
        self._next_retry = 0.0
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, row: dict[str, Any]) -> None:
        """Never blocks and never raises: the only thing a request does for the log."""
        self._queue.put_nowait(row)

    def close(self, timeout: float = 30.0) -> None:
        """Flush everything queued to the database or, failing that, to the spool."""
        self._stopping.set()
        self._thread.join(timeout)

    def _count(self, kind: str, rows: int) -> None:
        self.counts[kind] += rows
        self.on_event(kind, rows)

    def _run(self) -> None:
        while not (self._stopping.is_set() and self._queue.empty()):
            batch = self._take_batch()
            if self.spool.pending() and time.monotonic() >= self._next_retry:
                self._replay()
            if batch:
                self._write(batch)
        if self.spool.pending():
            self._replay()

    def _take_batch(self) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.flush_seconds
        while len(batch) < self.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _write(self, batch: list[dict[str, Any]]) -> None:
        if not self.spool.pending():
            try:
                write_rows(self.db_url, batch)
                self._count("logged", len(batch))
                return
            except Exception as exc:
                log.warning("prediction log: database unavailable (%s); spooling", _short(exc))
                self._next_retry = time.monotonic() + self.retry_seconds
        self.spool.append(batch)
        self._count("spooled", len(batch))

    def _replay(self) -> None:
        for segment in self.spool.segments():
            rows = self.spool.read(segment)
            try:
                write_rows(self.db_url, rows, replace=True)
            except Exception as exc:
                log.warning("prediction log: replay failed (%s); retrying later", _short(exc))
                self._next_retry = time.monotonic() + self.retry_seconds
                return
            self.spool.remove(segment)
            self._count("replayed", len(rows))


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
