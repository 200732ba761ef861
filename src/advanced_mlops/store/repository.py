"""Reads and writes of the store. Every function takes an open connection, so callers decide the
transaction: a day is replaced inside one, and nothing of it is visible until it commits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Table, and_, delete, func, insert, select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from advanced_mlops import schema
from advanced_mlops.store.tables import (
    customers,
    features,
    ingestions,
    labels,
    promotion_history,
    training_snapshots,
)

FEATURE_ROW = ["customer_id", "date", *schema.FEATURES]
LABEL_ROW = ["customer_id", "label_date", schema.LABEL, "available_at"]


def to_records(frame: pd.DataFrame, columns: Iterable[str]) -> list[dict[str, Any]]:
    """Rows as dicts with None for every kind of missing value (NaN, NA, NaT)."""
    subset = frame[list(columns)].astype(object)
    return subset.where(subset.notna(), None).to_dict("records")  # type: ignore[return-value]


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """One multi-row insert (the DBAPI's executemany), the fast path for bulk writes."""
    if rows:
        conn.execute(insert(table), rows)


def replace_day(
    conn: Connection,
    day: date,
    day_features: pd.DataFrame,
    day_labels: pd.DataFrame,
    source: str,
    scenario: str,
) -> None:
    """Make `day` hold exactly these features and the labels that arrived that day."""
    now = datetime.now()
    conn.execute(delete(features).where(features.c.date == day))
    conn.execute(delete(labels).where(labels.c.available_at == day))
    # A re-delivered label for the same (customer, date) replaces the one that arrived earlier.
    for chunk in _chunks(day_labels["customer_id"].tolist(), 500):
        conn.execute(
            delete(labels).where(
                labels.c.customer_id.in_(chunk),
                labels.c.label_date.in_(day_labels["label_date"].unique().tolist()),
            )
        )
    rows = to_records(day_features, FEATURE_ROW)
    for row in rows:
        row["ingested_at"] = now
    insert_rows(conn, features, rows)
    insert_rows(conn, labels, to_records(day_labels, LABEL_ROW))
    _upsert_customers(conn, day, day_features)
    conn.execute(delete(ingestions).where(ingestions.c.date == day))
    conn.execute(
        insert(ingestions).values(
            date=day,
            source=source,
            scenario=scenario,
            feature_rows=len(day_features),
            label_rows=len(day_labels),
            ingested_at=now,
        )
    )


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _upsert_customers(conn: Connection, day: date, day_features: pd.DataFrame) -> None:
    rows = [
        {**row, "first_seen": day, "last_seen": day}
        for row in to_records(day_features, ["customer_id", "name", "ssn"])
    ]
    if not rows:
        return
    if conn.dialect.name in {"mysql", "mariadb"}:
        stmt = mysql_insert(customers)
        conn.execute(
            stmt.on_duplicate_key_update(
                name=stmt.inserted.name,
                ssn=stmt.inserted.ssn,
                first_seen=func.least(customers.c.first_seen, stmt.inserted.first_seen),
                last_seen=func.greatest(customers.c.last_seen, stmt.inserted.last_seen),
            ),
            rows,
        )
    else:
        lite = sqlite_insert(customers)
        conn.execute(
            lite.on_conflict_do_update(
                index_elements=["customer_id"],
                set_={
                    "name": lite.excluded.name,
                    "ssn": lite.excluded.ssn,
                    "first_seen": func.min(customers.c.first_seen, lite.excluded.first_seen),
                    "last_seen": func.max(customers.c.last_seen, lite.excluded.last_seen),
                },
            ),
            rows,
        )


def read_features(conn: Connection, start: date, end: date) -> pd.DataFrame:
    """Features dated in [start, end]."""
    query = select(*(features.c[c] for c in FEATURE_ROW)).where(features.c.date.between(start, end))
    return _frame(conn, query, FEATURE_ROW)


def read_labels(conn: Connection, label_from: date, known_by: date) -> pd.DataFrame:
    """Labels dated from `label_from` that had arrived by `known_by` (the point in time)."""
    query = select(*(labels.c[c] for c in LABEL_ROW)).where(
        and_(labels.c.label_date >= label_from, labels.c.available_at <= known_by)
    )
    return _frame(conn, query, LABEL_ROW)


def _frame(conn: Connection, query: Any, columns: list[str]) -> pd.DataFrame:
    result = conn.execute(query).all()
    frame = pd.DataFrame(result, columns=columns)
    for column in schema.NUMERIC_FEATURES:
        if column in frame:
            frame[column] = frame[column].astype(float)
    return frame


def day_counts(conn: Connection, day: date) -> dict[str, int]:
    """How many rows of each kind `day` holds; used to show that a refusal changed nothing."""
    return {
        "features": conn.scalar(select(func.count()).where(features.c.date == day)) or 0,
        "labels": conn.scalar(select(func.count()).where(labels.c.available_at == day)) or 0,
    }


def table_counts(conn: Connection) -> dict[str, int]:
    tables = (customers, features, labels, ingestions, training_snapshots, promotion_history)
    return {t.name: conn.scalar(select(func.count()).select_from(t)) or 0 for t in tables}


def ingested_days(conn: Connection) -> pd.DataFrame:
    query = select(ingestions).order_by(ingestions.c.date)
    return pd.DataFrame(conn.execute(query).mappings().all(), columns=list(ingestions.c.keys()))


def latest_ingested_day(conn: Connection) -> date | None:
    latest: date | None = conn.scalar(select(func.max(ingestions.c.date)))
    return latest


def replace_snapshot(conn: Connection, base_date: date, snapshot: pd.DataFrame) -> None:
    conn.execute(delete(training_snapshots).where(training_snapshots.c.base_date == base_date))
    rows = to_records(snapshot, SNAPSHOT_ROW)
    for row in rows:
        row["base_date"] = base_date
    insert_rows(conn, training_snapshots, rows)


SNAPSHOT_ROW = ["customer_id", "label_date", "feature_date", *schema.FEATURES, schema.LABEL]


def read_snapshot(conn: Connection, base_date: date) -> pd.DataFrame:
    query = (
        select(*(training_snapshots.c[c] for c in SNAPSHOT_ROW))
        .where(training_snapshots.c.base_date == base_date)
        .order_by(training_snapshots.c.label_date, training_snapshots.c.customer_id)
    )
    return _frame(conn, query, SNAPSHOT_ROW)


def record_event(conn: Connection, event: Mapping[str, Any]) -> None:
    """Append one gate / promote / rollback event to the promotion history."""
    conn.execute(insert(promotion_history).values(at=datetime.now(), **event))


def read_history(conn: Connection, model_name: str) -> list[dict[str, Any]]:
    query = (
        select(promotion_history)
        .where(promotion_history.c.model_name == model_name)
        .order_by(promotion_history.c.id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]
