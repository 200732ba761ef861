"""Reads and writes of the store. Every function takes an open connection, so callers decide the
transaction: a day is replaced inside one, and nothing of it is visible until it commits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, delete, func, insert, select, update

from advanced_mlops import schema
from advanced_mlops.store.bulk import insert_frame, upsert_frame
from advanced_mlops.store.tables import (
    customers,
    features,
    ingestions,
    labels,
    monitoring_decisions,
    monitoring_metrics,
    promotion_history,
    training_snapshots,
)

FEATURE_ROW = ["customer_id", "date", *schema.FEATURES]
LABEL_ROW = ["customer_id", "label_date", schema.LABEL, "available_at"]


def replace_day(
    conn: Connection,
    day: date,
    day_features: pd.DataFrame,
    day_labels: pd.DataFrame,
    source: str,
    scenario: str,
) -> None:
    """Make `day` hold exactly these features and the labels that arrived that day."""
    now = datetime.now().replace(microsecond=0)
    conn.execute(delete(features).where(features.c.date == day))
    conn.execute(delete(labels).where(labels.c.available_at == day))
    insert_frame(conn, features, day_features[FEATURE_ROW].assign(ingested_at=now))
    # A label re-delivered for the same (customer, date) replaces the one that arrived earlier.
    insert_frame(conn, labels, day_labels[LABEL_ROW], replace=True)
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


def _upsert_customers(conn: Connection, day: date, day_features: pd.DataFrame) -> None:
    """Customers persist across days: keep the first and last day each one was seen."""
    seen = day_features[["customer_id", "name", "ssn"]].assign(first_seen=day, last_seen=day)
    upsert_frame(
        conn,
        customers,
        seen,
        {
            "name": None,
            "ssn": None,
            "first_seen": (func.least, func.min),
            "last_seen": (func.greatest, func.max),
        },
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


def customer_ids(conn: Connection) -> list[str]:
    """Every customer the store has seen (the labels contract's known customers)."""
    return list(conn.scalars(select(customers.c.customer_id)))


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
    insert_frame(conn, training_snapshots, snapshot[SNAPSHOT_ROW].assign(base_date=base_date))


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


def replace_monitoring_day(
    conn: Connection, day: date, metrics: list[dict[str, Any]], decision: Mapping[str, Any]
) -> None:
    """Make `day` hold exactly these metric rows and this decision (a re-run replaces them)."""
    now = datetime.now().replace(microsecond=0)
    conn.execute(delete(monitoring_metrics).where(monitoring_metrics.c.day == day))
    conn.execute(delete(monitoring_decisions).where(monitoring_decisions.c.day == day))
    if metrics:
        conn.execute(
            insert(monitoring_metrics), [{**m, "day": day, "computed_at": now} for m in metrics]
        )
    conn.execute(insert(monitoring_decisions).values(day=day, decided_at=now, **decision))


def record_monitoring_report(conn: Connection, day: date, path: str, run_id: str | None) -> None:
    """Where the stored decision of `day` is explained: its HTML report and MLflow run."""
    conn.execute(
        update(monitoring_decisions)
        .where(monitoring_decisions.c.day == day)
        .values(report_path=path, mlflow_run_id=run_id)
    )


def read_decisions(conn: Connection, since: date, before: date) -> list[dict[str, Any]]:
    """Monitoring decisions of the days in [since, before), oldest first."""
    query = (
        select(monitoring_decisions)
        .where(monitoring_decisions.c.day >= since, monitoring_decisions.c.day < before)
        .order_by(monitoring_decisions.c.day)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def read_monitoring_metrics(conn: Connection, day: date) -> pd.DataFrame:
    query = select(monitoring_metrics).where(monitoring_metrics.c.day == day)
    columns = list(monitoring_metrics.c.keys())
    return pd.DataFrame(conn.execute(query).mappings().all(), columns=columns)
