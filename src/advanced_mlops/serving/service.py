"""The BentoML service: `mlops serve` runs it, `bentoml build` packages it (see bentofile.yaml).

- the champion is loaded once per worker at start and swapped when the alias moves;
- `/predict` and `/predict_batch` validate with pydantic (a 400 names each bad field);
- concurrent requests share model calls (adaptive batching, see batching.py);
- every answer is logged by a background writer (or, in `sync` mode, inside the request);
- `"explain": true` adds reason codes (CatBoost's SHAP values) to the answer and its log row.
"""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from datetime import datetime
from typing import Annotated, Any

import bentoml
from fastapi import FastAPI
from pydantic import Field, Strict

from advanced_mlops.inference import predict_records, reason_codes
from advanced_mlops.serving.batching import AdaptiveBatcher
from advanced_mlops.serving.champion import ChampionWatcher
from advanced_mlops.serving.log_writer import LogWriter, log_row, write_rows
from advanced_mlops.serving.schemas import (
    BatchPrediction,
    CreditRecord,
    Metadata,
    Prediction,
    PredictRequest,
)
from advanced_mlops.serving.spool import Spool
from advanced_mlops.settings import load_settings
from advanced_mlops.version import package_version

SETTINGS = load_settings()

LOG_ROWS = bentoml.metrics.Counter(
    name="prediction_log_rows",
    documentation="Prediction-log rows by outcome: logged (to the database), spooled, replayed.",
    labelnames=["outcome"],
)
MODEL_CALL_RECORDS = bentoml.metrics.Histogram(
    name="model_call_records",
    documentation="Records scored per model call: above 1 when concurrent requests share a call.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
MODEL_SWAPS = bentoml.metrics.Counter(
    name="champion_swaps", documentation="Times the served model changed without a restart."
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
        self.watcher = ChampionWatcher(
            self.settings,
            self.settings.serving.swap_poll_seconds,
            on_swap=lambda _: MODEL_SWAPS.inc(),
        )
        self.watcher.start()
        worker = bentoml.server_context.worker_index or 0
        self.writer = LogWriter(
            self.settings.store.url,
            Spool(self.settings.store.spool_dir / f"worker-{worker}"),
            batch_size=self.settings.serving.log_batch_size,
            flush_seconds=self.settings.serving.log_flush_seconds,
            retry_seconds=self.settings.serving.log_retry_seconds,
            on_event=lambda outcome, rows: LOG_ROWS.labels(outcome=outcome).inc(rows),
        )
        self.writer.start()
        self.batcher = AdaptiveBatcher(self._score, max_batch_size=128)
        # Everything loaded so far lives as long as the worker: keep it out of the cyclic GC,
        # whose full passes over ~1M start-up objects otherwise stall requests for ~0.3 s.
        gc.collect()
        gc.freeze()

    @bentoml.on_shutdown
    def flush_log(self) -> None:
        """Graceful shutdown: everything answered reaches the database or the spool."""
        self.watcher.stop()
        self.writer.close()

    def __is_ready__(self) -> bool:
        return self.watcher.current is not None

    def _score(self, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One model call for a merged batch (`{"record", "explain"}` jobs); each result names
        the version that answered, and carries reasons from that same model when asked for."""
        champion = self.watcher.current
        MODEL_CALL_RECORDS.observe(len(jobs))
        results = [
            {**result, "model_version": champion.version, "reasons": None}
            for result in predict_records(champion.model, [job["record"] for job in jobs])
        ]
        explained = [i for i, job in enumerate(jobs) if job["explain"]]
        if explained:
            reasons = reason_codes(
                champion.model,
                [jobs[i]["record"] for i in explained],
                [results[i]["credit_score"] for i in explained],
                exact=self.settings.serving.explain_shap == "exact",
            )
            for i, reason in zip(explained, reasons, strict=True):
                results[i]["reasons"] = reason
        return results

    @bentoml.api(route="/predict", input_spec=PredictRequest)
    async def predict(self, **body: Any) -> Prediction:
        started = time.perf_counter()
        explain = body.pop("explain", False)
        [result] = await self.batcher([{"record": body, "explain": explain}])
        prediction, row = self._answer(body, result, started)
        await self._log([row])
        return prediction

    @bentoml.api(route="/predict_batch")
    async def predict_batch(
        self,
        records: Annotated[
            list[CreditRecord],
            Field(min_length=1, max_length=SETTINGS.serving.max_batch_records),
        ],
        explain: Annotated[bool, Strict()] = False,
    ) -> BatchPrediction:
        started = time.perf_counter()
        inputs = [r.model_dump() for r in records]
        results = await self.batcher([{"record": r, "explain": explain} for r in inputs])
        answers = [self._answer(r, res, started) for r, res in zip(inputs, results, strict=True)]
        await self._log([row for _, row in answers])
        return BatchPrediction(predictions=[prediction for prediction, _ in answers])

    @http.get("/metadata")
    def metadata(self) -> Metadata:
        champion = self.watcher.current
        return Metadata(
            model_name=self.settings.store.model_name,
            version=champion.version,
            service_version=package_version(),
            run_id=champion.run_id,
            trained_at=champion.trained_at,
            gate=champion.gate,
        )

    async def _log(self, rows: list[dict[str, Any]]) -> None:
        if (
            self.settings.serving.log_mode == "sync"
        ):  # the course's design: the request waits for it
            await asyncio.to_thread(write_rows, self.settings.store.url, rows)
        else:
            for row in rows:
                self.writer.submit(row)

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
