"""The bulk write path round-trips every kind of value, on SQLite and on MariaDB."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from advanced_mlops import schema
from advanced_mlops.serving.log_writer import log_row, shadow_row, write_rows
from advanced_mlops.store.bulk import BULK_MIN_ROWS, allows_local_infile, insert_frame
from advanced_mlops.store.engine import connect, upgrade
from advanced_mlops.store.repository import FEATURE_ROW
from advanced_mlops.store.tables import features, labels, prediction_log, shadow_predictions

TRICKY = ["plain", 'quote " inside', "comma, and\ttab", "new\nline", "back\\slash", "ünïcödé €"]


def frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    data: dict[str, object] = {
        "customer_id": [f"CUS_0x{i:05x}" for i in range(rows)],
        "date": [date(2025, 1, 1 + i % 28) for i in range(rows)],
    }
    for column in schema.NUMERIC_FEATURES:
        values = rng.normal(100, 50, rows)
        values[rng.random(rows) < 0.2] = np.nan
        data[column] = values
    for column in (*schema.CATEGORICAL_FEATURES, *schema.TEXT_FEATURES):
        data[column] = [None if i % 7 == 0 else TRICKY[i % len(TRICKY)] for i in range(rows)]
    return pd.DataFrame(data).assign(ingested_at=datetime(2025, 1, 2, 3, 4, 5))


def test_bulk_insert_round_trips_nulls_floats_dates_and_awkward_text(store_url: str) -> None:
    upgrade(store_url)
    written = frame(BULK_MIN_ROWS + 50)  # large enough for LOAD DATA on MariaDB
    with connect(store_url, write=True, bulk=True) as conn:
        insert_frame(conn, features, written)
    with connect(store_url) as conn:
        rows = conn.execute(select(features).order_by(features.c.customer_id)).mappings().all()
    read = pd.DataFrame(rows)
    assert len(read) == len(written)
    for column in FEATURE_ROW:
        expected, actual = written[column].tolist(), read[column].tolist()
        if column in schema.NUMERIC_FEATURES:
            np.testing.assert_array_equal(np.array(actual, dtype=float), np.array(expected))
        else:
            assert actual == expected, column
    assert set(read["ingested_at"]) == {datetime(2025, 1, 2, 3, 4, 5)}


def test_a_redelivered_label_replaces_the_earlier_one(store_url: str) -> None:
    upgrade(store_url)
    first = pd.DataFrame(
        {
            "customer_id": [f"CUS_{i}" for i in range(BULK_MIN_ROWS)],
            "label_date": date(2025, 1, 1),
            "credit_score": "Poor",
            "available_at": date(2025, 1, 8),
        }
    )
    with connect(store_url, write=True, bulk=True) as conn:
        insert_frame(conn, labels, first, replace=True)
        insert_frame(conn, labels, first.head(3).assign(credit_score="Good"), replace=True)
        insert_frame(conn, labels, first.assign(available_at=date(2025, 1, 9)), replace=True)
    with connect(store_url) as conn:
        stored = pd.DataFrame(conn.execute(select(labels)).mappings().all())
    assert len(stored) == BULK_MIN_ROWS
    assert set(stored["available_at"]) == {date(2025, 1, 9)}
    assert set(stored["credit_score"]) == {"Poor"}


def test_only_bulk_connections_may_load_local_files(mariadb_url: str) -> None:
    """With `local_infile`, a server may ask the client for any file it can read: only the
    connections opened for bulk loads allow it; the others still insert large frames."""
    upgrade(mariadb_url)
    with connect(mariadb_url, write=True) as conn:
        assert not allows_local_infile(conn)
        insert_frame(conn, features, frame(BULK_MIN_ROWS + 10))  # a multi-row INSERT instead
    with connect(mariadb_url, write=True, bulk=True) as conn:
        assert allows_local_infile(conn)
    with connect(mariadb_url) as conn:
        stored = conn.execute(select(func.count()).select_from(features)).scalar()
    assert stored == BULK_MIN_ROWS + 10


def test_log_rows_and_shadow_results_round_trip_and_replay_idempotently(store_url: str) -> None:
    """The drain's path (dict rows, no pandas; LOAD DATA at any size on MariaDB): awkward text
    and nulls inside the JSON features, reasons present, null or missing (a journal written before
    the column), microsecond times; a replay of the same rows changes nothing."""
    upgrade(store_url)
    at = datetime(2025, 1, 2, 3, 4, 5, 678901)
    answer = {
        "credit_score": "Good",
        "probabilities": {"Poor": 0.125, "Standard": 0.25, "Good": 0.625},
    }
    rows: list[dict[str, Any]] = []
    for i, text in enumerate(TRICKY * 5):
        record = {"customer_id": f"CUS_{i}", "occupation": text, "age": i, "monthly_balance": None}
        reasons = [{"feature": "age", "value": i, "contribution": -0.5}] if i % 3 == 0 else None
        row = log_row(
            record, {**answer, "model_version": "3", "reasons": reasons}, f"r-{i}", 1.5, at
        )
        if i % 3 == 1:
            del row["reasons"]
        rows.append(row)
        if i % 2 == 0:
            rows.append(shadow_row(f"r-{i}", {**answer, "credit_score": "Poor"}, "4"))

    write_rows(store_url, rows, replace=True)
    write_rows(store_url, rows, replace=True)  # a replay after a crash before the truncation

    with connect(store_url) as conn:
        logged = (
            conn.execute(select(prediction_log).order_by(prediction_log.c.latency_ms))
            .mappings()
            .all()
        )
        shadows = conn.execute(select(shadow_predictions)).mappings().all()
        sql_nulls = conn.execute(
            select(func.count()).where(prediction_log.c.reasons.is_(None))
        ).scalar()
    by_id = {row["request_id"]: row for row in logged}
    assert len(logged) == len(by_id) == len(TRICKY) * 5
    for i, text in enumerate(TRICKY * 5):
        stored = by_id[f"r-{i}"]
        assert stored["features"] == {"occupation": text, "age": i, "monthly_balance": None}
        assert stored["reasons"] == (
            [{"feature": "age", "value": i, "contribution": -0.5}] if i % 3 == 0 else None
        )
        assert (stored["created_at"], stored["prob_good"], stored["model_version"]) == (
            at,
            0.625,
            "3",
        )
    assert sql_nulls == sum(1 for i in range(len(TRICKY) * 5) if i % 3)  # NULL, not 'null'
    assert sorted(s["request_id"] for s in shadows) == sorted(
        f"r-{i}" for i in range(0, len(TRICKY) * 5, 2)
    )
    assert {(s["version"], s["prediction"], s["prob_poor"]) for s in shadows} == {
        ("4", "Poor", 0.125)
    }
