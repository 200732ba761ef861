"""Realistic traffic without the HTTP server: the champion scores a day's feature rows and the
answers go to the prediction log exactly as the service writes them (same scoring function, same
row, same writer), with the challenger's shadow results when alias `challenger` is set. For the
demo, the tests and trying monitoring out.

Each row's request id is derived from (day, customer), so re-running a day replaces its rows.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from advanced_mlops import mlflow_io
from advanced_mlops.errors import MlopsError
from advanced_mlops.inference import predict_records
from advanced_mlops.serving.champion import champion_version
from advanced_mlops.serving.log_writer import log_row, shadow_row, write_rows
from advanced_mlops.settings import Settings
from advanced_mlops.store import repository
from advanced_mlops.store.bulk import to_records
from advanced_mlops.store.engine import connect, require_current_schema

BATCH = 5_000
TRAFFIC_NAMESPACE = uuid.UUID("6f1c5a52-1d0e-4c43-9a57-4f6b8d1f0c11")


@dataclass(frozen=True)
class TrafficResult:
    day: date
    rows: int
    model_version: str


def day_records(settings: Settings, day: date) -> list[dict[str, Any]]:
    """The day's feature rows as request records (customer id + the 22 features, None missing)."""
    require_current_schema(settings.store.url)
    with connect(settings.store.url) as conn:
        frame = repository.read_features(conn, day, day)
    if frame.empty:
        raise MlopsError(f"--date {day}: the store has no feature rows for this day; ingest it")
    return to_records(frame, [c for c in repository.FEATURE_ROW if c != "date"])


def log_traffic(settings: Settings, day: date) -> TrafficResult:
    """Score every feature row of `day` with the champion and log the answers, spread over the
    day's 24 hours."""
    records = day_records(settings, day)
    version = champion_version(settings)
    model = mlflow_io.load_model(settings, version)
    challenger = mlflow_io.alias_version(settings, mlflow_io.CHALLENGER)
    shadow_model = mlflow_io.load_model(settings, challenger) if challenger else None
    start = datetime.combine(day, datetime.min.time())
    step = timedelta(seconds=86_399 / max(len(records), 1))
    for offset in range(0, len(records), BATCH):
        chunk = records[offset : offset + BATCH]
        started = time.perf_counter()
        answers = predict_records(model, chunk)
        latency_ms = (time.perf_counter() - started) * 1000 / len(chunk)
        rows = [
            log_row(
                record,
                {**answer, "model_version": version},
                str(uuid.uuid5(TRAFFIC_NAMESPACE, f"{day}/{record['customer_id']}")),
                latency_ms,
                start + step * (offset + i),
            )
            for i, (record, answer) in enumerate(zip(chunk, answers, strict=True))
        ]
        if shadow_model is not None and challenger is not None:
            shadows = predict_records(shadow_model, chunk)
            rows += [
                shadow_row(row["request_id"], answer, challenger)
                for row, answer in zip(rows, shadows, strict=True)
            ]
        write_rows(settings.store.url, rows, replace=True)
    return TrafficResult(day, len(records), version)
