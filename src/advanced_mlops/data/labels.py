"""Labels as they arrive: the frame their contract checks, and the rows the store keeps.

The labels of feature day F come from the source's batch of F and arrive on F +
MLOPS_LABEL_DELAY_DAYS. Every arriving label is checked (`data_contracts/labels.json`), but only
those whose features are stored are kept: a label of a refused (or never ingested) day would
otherwise meet, in a training snapshot, the customer's older features as if they were that day's.
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Set as AbstractSet
from datetime import date

import pandas as pd

from advanced_mlops import schema
from advanced_mlops.data.cleaning import to_category, to_text
from advanced_mlops.store import repository

CHECKED = [
    "customer_id",
    "label_date",
    schema.LABEL,
    "available_at",
    "feature_day_stored",
    "unknown_customer_id",
]


def delivered_labels(
    raw: pd.DataFrame,
    arrival: date,
    stored_days: Collection[date],
    known_customers: AbstractSet[str] = frozenset(),
) -> pd.DataFrame:
    """The labels of a raw batch as they arrive on `arrival`, as sent (only trimmed): the frame
    the labels contract checks. `feature_day_stored` says whether the store holds (or this run
    stores) the features of each label's day; `unknown_customer_id` is the id of a label whose
    features are stored but whose customer is not in `known_customers` (missing otherwise)."""
    label_date = pd.to_datetime(_column(raw, "date"), errors="coerce").astype("datetime64[us]")
    label = _column(raw, schema.LABEL).astype("string").str.strip()
    customer = to_text(_column(raw, "customer_id"))
    stored = label_date.dt.date.isin(list(stored_days))
    known = pd.Series([c in known_customers for c in customer], index=raw.index, dtype=bool)
    unknown = stored & customer.notna() & ~known
    return pd.DataFrame(
        {
            "customer_id": customer,
            "label_date": label_date,
            schema.LABEL: label.astype(object).where(label.notna(), None),
            "available_at": pd.Series(
                pd.Timestamp(arrival), index=raw.index, dtype="datetime64[us]"
            ),
            "feature_day_stored": stored,
            "unknown_customer_id": customer.where(unknown, None),
        },
        index=raw.index,
    )[CHECKED]


def labels_to_store(delivered: pd.DataFrame) -> pd.DataFrame:
    """The delivered labels whose features are stored, typed as the labels table holds them."""
    kept = delivered[delivered["feature_day_stored"].astype(bool)]
    labels = pd.DataFrame(
        {
            "customer_id": kept["customer_id"],
            "label_date": kept["label_date"].dt.date,
            schema.LABEL: to_category(kept[schema.LABEL], schema.CLASSES),
            "available_at": kept["available_at"].dt.date,
        }
    )
    labels = labels.dropna(subset=["customer_id", "label_date", schema.LABEL])
    return labels.drop_duplicates(["customer_id", "label_date"], keep="last")[
        repository.LABEL_ROW
    ].reset_index(drop=True)


def arriving_labels(raw: pd.DataFrame, arrival: date) -> pd.DataFrame:
    """Every label of a raw batch, stamped with the day it arrives, typed for the store."""
    dates = pd.to_datetime(_column(raw, "date"), errors="coerce").dt.date.dropna().unique()
    customers = set(to_text(_column(raw, "customer_id")).dropna())
    return labels_to_store(delivered_labels(raw, arrival, dates, customers))


def _column(raw: pd.DataFrame, name: str) -> pd.Series:
    """A column of the raw batch, all missing when the batch lacks it (its contract says so)."""
    return raw[name] if name in raw else pd.Series(None, index=raw.index, dtype=object)
