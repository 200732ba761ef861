"""The bulk write path round-trips every kind of value, on SQLite and on MariaDB."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from advanced_mlops import schema
from advanced_mlops.store.bulk import BULK_MIN_ROWS, allows_local_infile, insert_frame
from advanced_mlops.store.engine import connect, upgrade
from advanced_mlops.store.repository import FEATURE_ROW
from advanced_mlops.store.tables import features, labels

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
