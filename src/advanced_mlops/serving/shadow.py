"""Shadow scoring: the challenger scores what the champion answered, after the answer has left.

The request path only hands (request id, record) pairs to a bounded queue, and only when there is
a challenger: with none, the cost is one attribute read. A thread of its own scores the queue in
batches (what arrives within `linger_seconds`) with the challenger and hands the results to `emit`
(the journal, see log_writer.shadow_row). A challenger that raises, is slow or is behind never
fails or delays an answer: failures are counted and logged once per change, records that find the
queue full are dropped and counted.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from advanced_mlops.inference import predict_records
from advanced_mlops.serving.champion import Champion
from advanced_mlops.serving.log_writer import shadow_row

log = logging.getLogger(__name__)

Job = tuple[str, dict[str, Any]]  # (request id, record)


class ShadowScorer:
    """Scores submitted records with `challenger()` in a thread and emits the shadow rows."""

    def __init__(
        self,
        challenger: Callable[[], Champion | None],
        emit: Callable[[list[dict[str, Any]]], None],
        *,
        max_queued: int = 10_000,
        max_batch: int = 128,
        linger_seconds: float = 0.2,
        on_scored: Callable[[str, int], None] = lambda _outcome, _n: None,
    ) -> None:
        self.challenger = challenger
        self.emit = emit
        self.max_batch = max_batch
        self.linger_seconds = linger_seconds
        self.on_scored = on_scored  # ("scored" | "failed" | "dropped", records)
        self.failure: str | None = None
        self._queue: queue.Queue[list[Job] | None] = queue.Queue(max(1, max_queued // 8))
        self._thread = threading.Thread(target=self._run, name="shadow-scorer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)

    def submit(self, jobs: list[Job]) -> None:
        """From the request path: never blocks."""
        try:
            self._queue.put_nowait(jobs)
        except queue.Full:
            self.on_scored("dropped", len(jobs))

    def _run(self) -> None:
        while (jobs := self._queue.get()) is not None:
            closing = self._gather(jobs)
            self._score(jobs)
            if closing:
                return

    def _gather(self, jobs: list[Job]) -> bool:
        """Add to `jobs` what arrives within `linger_seconds`, up to `max_batch` records: one
        model call and one journal append for many answers (CatBoost costs ~10x more per record
        called on one than on 128, measured). Nobody waits for shadow results, so lingering
        costs nothing. True when `close` came meanwhile."""
        deadline = time.monotonic() + self.linger_seconds
        while len(jobs) < self.max_batch:
            try:
                more = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return False
            if more is None:
                return True
            jobs.extend(more)
        return False

    def _score(self, jobs: list[Job]) -> None:
        challenger = self.challenger()
        if challenger is None:  # cleared while these waited
            return
        try:
            answers = predict_records(challenger.model, [record for _, record in jobs])
            self.emit(
                [
                    shadow_row(request_id, answer, challenger.version)
                    for (request_id, _), answer in zip(jobs, answers, strict=True)
                ]
            )
        except Exception as exc:  # anything: the thread must outlive it
            self.on_scored("failed", len(jobs))
            failure = f"{challenger.version} {type(exc).__name__}"  # the message names rows
            if failure != self.failure:
                detail = str(exc).splitlines()[0][:200] if str(exc) else ""
                log.error("shadow scoring with v%s failed (%s: %s); logged once, counted in "
                          "shadow_records_total", challenger.version, type(exc).__name__,
                          detail)  # fmt: skip
                self.failure = failure
            return
        self.failure = None
        self.on_scored("scored", len(jobs))
