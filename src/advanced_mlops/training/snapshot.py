"""Point-in-time training snapshots: each label meets the newest features known at its date."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection

from advanced_mlops import schema
from advanced_mlops.store import repository

FEATURE_LOOKBACK_DAYS = 45  # a label older than its newest features by more is dropped


def point_in_time_join(
    features: pd.DataFrame, labels: pd.DataFrame, lookback_days: int = FEATURE_LOOKBACK_DAYS
) -> pd.DataFrame:
    """As-of join on customer: features dated on or before the label's date, never after."""
    if labels.empty or features.empty:
        return pd.DataFrame(columns=repository.SNAPSHOT_ROW)
    left = labels.assign(_at=pd.to_datetime(labels["label_date"])).sort_values("_at")
    right = features[repository.FEATURE_ROW].rename(columns={"date": "feature_date"})
    right = right.assign(_at=pd.to_datetime(right["feature_date"])).sort_values("_at")
    joined = pd.merge_asof(
        left.drop(columns=["available_at"], errors="ignore"),
        right,
        on="_at",
        by="customer_id",
        direction="backward",
        tolerance=pd.Timedelta(days=lookback_days),
    )
    joined = joined.dropna(subset=["feature_date"])
    joined = joined.sort_values(["label_date", "customer_id"], kind="stable")
    return joined[repository.SNAPSHOT_ROW].reset_index(drop=True)


def snapshot_at(conn: Connection, base_date: date, window_days: int) -> pd.DataFrame:
    """The snapshot as the store knew it on `base_date`: labels arrived by then, in the window."""
    label_from = base_date - timedelta(days=window_days)
    labels = repository.read_labels(conn, label_from=label_from, known_by=base_date)
    features = repository.read_features(
        conn, label_from - timedelta(days=FEATURE_LOOKBACK_DAYS), base_date
    )
    return point_in_time_join(features, labels)


def data_hash(snapshot: pd.DataFrame) -> str:
    """A content hash for lineage: the same rows give the same hash on any database."""
    canonical = snapshot[repository.SNAPSHOT_ROW].astype(str).to_csv(index=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def class_shares(snapshot: pd.DataFrame) -> dict[str, float]:
    counts = snapshot[schema.LABEL].value_counts(normalize=True)
    return {c: round(float(counts.get(c, 0.0)), 4) for c in schema.CLASSES}
