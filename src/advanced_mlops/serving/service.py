"""The BentoML service: `mlops serve` runs it, `bentoml build` packages it (see bentofile.yaml).

- the champion is loaded once per worker at start and swapped when the alias moves;
- `/predict` and `/predict_batch` validate with pydantic (a 400 names each bad field);
- concurrent requests share model calls (adaptive batching, see batching.py);
- an answer leaves only once its log row is fsync'd in the worker's write-ahead journal, which a
  writer thread drains to the database (journal.py, log_writer.py); past the journal's limits, or
  when the disk refuses, a prediction gets 503 + Retry-After instead of an unrecorded answer.
- `"explain": true` adds reason codes (CatBoost's SHAP values) to the answer and its log row;
- when alias `challenger` is set, it scores every answered record in shadow, after the answer,
  and its class, probabilities and version join the log row (shadow.py).
"""

from __future__ import annotations

import asyncio
import gc
import math
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import bentoml
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import Field, Strict

from advanced_mlops import mlflow_io
from advanced_mlops.inference import predict_records
from advanced_mlops.serving.batching import AdaptiveBatcher
from advanced_mlops.serving.champion import AliasWatcher, Champion
from advanced_mlops.serving.journal import JournalRefusedError
from advanced_mlops.serving.lifeline import die_with_parent
from advanced_mlops.serving.log_writer import log_row, open_log, write_rows
from advanced_mlops.serving.schemas import (
    BatchPrediction,
    CreditRecord,
    Metadata,
    Prediction,
    PredictRequest,
)
from advanced_mlops.serving.shadow import ShadowScorer
from advanced_mlops.settings import load_settings
from advanced_mlops.version import package_version

SETTINGS = load_settings()
if bentoml.server_context.worker_index is not None:  # a worker, not the arbiter
    die_with_parent()

LOG_ROWS = bentoml.metrics.Counter(
    name="prediction_log_rows",
    documentation="Prediction-log rows written to the database: logged (this run) or replayed "
    "(left in the journal by an earlier run).",
    labelnames=["outcome"],
)
JOURNAL_BYTES = bentoml.metrics.Gauge(
    name="prediction_journal_bytes",
    documentation="Journal bytes not yet in the database (all workers).",
    multiprocess_mode="livesum",
)
JOURNAL_RECORDS = bentoml.metrics.Gauge(
    name="prediction_journal_records",
    documentation="Journal rows not yet in the database (all workers).",
    multiprocess_mode="livesum",
)
OLDEST_UNLOGGED = bentoml.metrics.Gauge(
    name="prediction_oldest_unlogged_seconds",
    documentation="Age of the oldest answered prediction not yet in the database.",
    multiprocess_mode="livemax",
)
JOURNAL_FSYNCS = bentoml.metrics.Counter(
    name="prediction_journal_fsyncs",
    documentation="Journal fsyncs: below the answers when concurrent requests share one.",
)
REFUSALS = bentoml.metrics.Counter(
    name="prediction_refusals",
    documentation="Predictions answered 503 because their log row could not be recorded.",
)
MODEL_CALL_RECORDS = bentoml.metrics.Histogram(
    name="model_call_records",
    documentation="Records scored per model call: above 1 when concurrent requests share a call.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
MODEL_SWAPS = bentoml.metrics.Counter(
    name="champion_swaps", documentation="Times the served model changed without a restart."
)
SHADOW_RECORDS = bentoml.metrics.Counter(
    name="shadow_records",
    documentation="Answered records the challenger scored in shadow (scored), could not score "
    "(failed), or skipped because shadow scoring was behind (dropped).",
    labelnames=["outcome"],
)


# GET endpoints: BentoML APIs are POST-only, so /metadata is a FastAPI route on the same service.
http = FastAPI()


@bentoml.asgi_app(http, path="/")
@bentoml.service(
    name="credit_score",
    workers=SETTINGS.serving.serve_workers,
    traffic={"timeout": 30},
    metrics={"enabled": True},
    # Every answer is already a row of the prediction log (request id, latency): a second,
    # per-request access log line costs ~10 % of the throughput and adds nothing.
    logging={"access": {"enabled": SETTINGS.serving.access_log}},
)
class CreditScoreService:
    def __init__(self) -> None:
        self.settings = load_settings()
        poll = self.settings.serving.swap_poll_seconds
        self.watcher = AliasWatcher(
            self.settings,
            mlflow_io.CHAMPION,
            poll,
            on_swap=lambda _: MODEL_SWAPS.inc(),
            required=True,
        )
        self.watcher.start()
        self.challengers = AliasWatcher(self.settings, mlflow_io.CHALLENGER, poll)
        serving = self.settings.serving
        self.retry_after = str(max(1, math.ceil(serving.log_retry_seconds)))
        worker = bentoml.server_context.worker_index or 1
        root = self.settings.store.journal_dir
        self.journal, self.drain = open_log(
            self.settings.store.url,
            root / f"worker-{worker}",
            _orphan_journals(root, serving.serve_workers) if worker == 1 else [],
            segment_records=serving.log_batch_size,
            segment_seconds=serving.log_flush_seconds,
            max_bytes=serving.journal_max_bytes,
            max_records=serving.journal_max_records,
            retry_seconds=serving.log_retry_seconds,
            unready_after_seconds=serving.log_unready_after_seconds,
            on_event=lambda outcome, rows: LOG_ROWS.labels(outcome=outcome).inc(rows),
            on_tick=self._refresh_gauges,
        )
        self._fsyncs_seen = 0
        self.batcher = AdaptiveBatcher(self._score, max_batch_size=128)
        self.shadow = ShadowScorer(
            lambda: self.challengers.current,
            self._emit_shadow,
            on_scored=lambda outcome, n: SHADOW_RECORDS.labels(outcome=outcome).inc(n),
        )
        self.shadow.start()
        self.challengers.start()
        # Everything loaded so far lives as long as the worker: keep it out of the cyclic GC,
        # whose full passes over ~1M start-up objects otherwise stall requests for ~0.3 s.
        gc.collect()
        gc.freeze()

    @bentoml.on_shutdown
    def flush_log(self) -> None:
        """Graceful shutdown: the journal is sealed and, if the database lets us, drained."""
        self.watcher.stop()
        self.challengers.stop()
        self.shadow.close()
        self.journal.close()
        self.drain.close()

    def __is_ready__(self) -> bool:
        """Ready to answer = a model and a way to record every answer."""
        return (
            self.watcher.current is not None and self.journal.can_record() and self.drain.healthy()
        )

    @property
    def champion(self) -> Champion:
        """The champion's watcher is `required`: it has a model from the start, never drops it."""
        current = self.watcher.current
        assert current is not None
        return current

    def _refresh_gauges(self) -> None:
        JOURNAL_BYTES.set(self.journal.bytes)
        JOURNAL_RECORDS.set(self.journal.records)
        OLDEST_UNLOGGED.set(self.journal.oldest_unlogged_age())
        fsyncs = self.journal.fsyncs
        JOURNAL_FSYNCS.inc(fsyncs - self._fsyncs_seen)
        self._fsyncs_seen = fsyncs

    def _score(self, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One model call for a merged batch (`{"record", "explain"}` jobs); each result names
        the version that answered, and carries reasons from that same model when asked for."""
        champion = self.champion
        MODEL_CALL_RECORDS.observe(len(jobs))
        results = predict_records(
            champion.model,
            [job["record"] for job in jobs],
            explain=[job["explain"] for job in jobs],
            exact=self.settings.serving.explain_shap == "exact",
            explainer=champion.explainer,
        )
        return [{**result, "model_version": champion.version} for result in results]

    @bentoml.api(route="/predict", input_spec=PredictRequest, output_spec=Prediction)
    async def predict(self, **body: Any) -> Prediction | JSONResponse:
        started = time.perf_counter()
        explain = body.pop("explain", False)
        [result] = await self.batcher([{"record": body, "explain": explain}])
        prediction, row = self._answer(body, result, started)
        try:
            await self._log([row])
        except JournalRefusedError as exc:
            return self._refusal(exc)
        if self.challengers.current is not None:
            self.shadow.submit([(prediction.request_id, body)])
        return prediction

    @bentoml.api(route="/predict_batch", output_spec=BatchPrediction)
    async def predict_batch(
        self,
        records: Annotated[
            list[CreditRecord],
            Field(min_length=1, max_length=SETTINGS.serving.max_batch_records),
        ],
        explain: Annotated[bool, Strict()] = False,
    ) -> BatchPrediction | JSONResponse:
        started = time.perf_counter()
        inputs = [r.model_dump() for r in records]
        results = await self.batcher([{"record": r, "explain": explain} for r in inputs])
        answers = [self._answer(r, res, started) for r, res in zip(inputs, results, strict=True)]
        try:
            await self._log([row for _, row in answers])
        except JournalRefusedError as exc:
            return self._refusal(exc)
        if self.challengers.current is not None:
            self.shadow.submit(
                [(p.request_id, r) for r, (p, _) in zip(inputs, answers, strict=True)]
            )
        return BatchPrediction(predictions=[prediction for prediction, _ in answers])

    @http.get("/metadata")
    def metadata(self) -> Metadata:
        champion = self.champion
        return Metadata(
            model_name=self.settings.store.model_name,
            version=champion.version,
            service_version=package_version(),
            run_id=champion.run_id,
            trained_at=champion.trained_at,
            gate=champion.gate,
        )

    async def _log(self, rows: list[dict[str, Any]]) -> None:
        """Record the rows before the answer leaves (JournalRefusedError if impossible)."""
        mode = self.settings.serving.log_mode
        if mode == "sync":  # the course's design: the request waits for the database
            await asyncio.to_thread(write_rows, self.settings.store.url, rows)
            return
        durable = self.journal.append(rows)
        if mode == "durable":
            await asyncio.wrap_future(durable)

    def _emit_shadow(self, rows: list[dict[str, Any]]) -> None:
        """Shadow results go the way of log rows: journalled after their row (never awaited, so
        riding along with the answers' next fsync), or straight to the database in `sync` mode.
        A full journal drops them: answers first."""
        if self.settings.serving.log_mode == "sync":
            write_rows(self.settings.store.url, rows)
            return
        self.journal.append(rows, ride_along=True)

    def _refusal(self, exc: JournalRefusedError) -> JSONResponse:
        REFUSALS.inc()
        return JSONResponse(
            {"error": f"prediction not given: its log record cannot be kept ({exc})"},
            status_code=503,
            headers={"Retry-After": self.retry_after},
        )

    def _answer(
        self, record: dict[str, Any], result: dict[str, Any], started: float
    ) -> tuple[Prediction, dict[str, Any]]:
        prediction = Prediction(
            request_id=str(uuid.uuid4()),
            customer_id=record["customer_id"],
            credit_score=result["credit_score"],
            probabilities=result["probabilities"],
            model_version=result["model_version"],
            reasons=result["reasons"],
        )
        latency_ms = (time.perf_counter() - started) * 1000
        row = log_row(record, result, prediction.request_id, latency_ms, datetime.now())
        return prediction, row


def _orphan_journals(root: Path, workers: int) -> list[Path]:
    """Journal folders of workers this run does not have (the service ran with more before)."""
    return [
        folder
        for folder in sorted(root.glob("worker-*"))
        if not folder.name.removeprefix("worker-").isdigit()
        or not 1 <= int(folder.name.removeprefix("worker-")) <= workers
    ]
