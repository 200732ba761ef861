"""Cleaning rules from the raw, string-typed batch to typed features. Each rule is one function.

Rules (in order):
1. Numbers: strip spaces and stray underscores ("37000_" -> 37000); the `__10000__` placeholder
   and anything that is not a number become missing.
2. `credit_history_age`: "22 Years and 1 Months" -> 265 months; a plain number is kept.
3. Ranges: a number outside its plausible range (`schema.NUMERIC_RANGES`) becomes missing;
   integer features are rounded.
4. Categories: placeholders ("_", "_______", "!@9#%8") and any value outside the allowed set
   become missing.
5. `type_of_loan`: trimmed; empty becomes missing (a customer with no loans).
6. Labels outside Poor / Standard / Good become missing; rows without a customer id are dropped;
   a customer appearing twice on one day keeps its last record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

import pandas as pd

from advanced_mlops import schema

PLACEHOLDERS = frozenset({"", "_", "_______", "!@9#%8", "__10000__", "nan", "None", "NA"})
_HISTORY = re.compile(r"^\s*(\d+)\s+Years?\s+and\s+(\d+)\s+Months?\s*$", re.IGNORECASE)


def to_number(values: pd.Series) -> pd.Series:
    """Rule 1: text to float, missing where it is a placeholder or not a number."""
    text = values.astype("string").str.strip()
    text = text.mask(text.isin(PLACEHOLDERS)).str.strip("_")
    return pd.to_numeric(text, errors="coerce").astype(float)


def history_months(values: pd.Series) -> pd.Series:
    """Rule 2: '22 Years and 1 Months' (or a number of months) to months."""
    text = values.astype("string")
    parts = text.str.extract(_HISTORY)
    months = pd.to_numeric(parts[0], errors="coerce") * 12 + pd.to_numeric(
        parts[1], errors="coerce"
    )
    return months.fillna(to_number(values)).astype(float)


def within_range(values: pd.Series, column: str) -> pd.Series:
    """Rule 3: missing outside the plausible range; integers rounded."""
    low, high = schema.NUMERIC_RANGES[column]
    kept = values.where(values.between(low, high))
    return kept.round() if column in schema.INTEGER_FEATURES else kept


def to_category(values: pd.Series, allowed: tuple[str, ...]) -> pd.Series:
    """Rule 4: missing unless one of the allowed values."""
    text = values.astype("string").str.strip()
    return text.where(text.isin(allowed)).astype(object).where(lambda s: s.notna(), None)


def to_text(values: pd.Series) -> pd.Series:
    """Rule 5: trimmed text, missing when empty."""
    text = values.astype("string").str.strip()
    return text.mask(text.isin(PLACEHOLDERS)).astype(object).where(lambda s: s.notna(), None)


def clean_batch(raw: pd.DataFrame) -> pd.DataFrame:
    """Apply every rule to a raw batch: ids, typed features and the label (maybe missing)."""
    cleaned = _clean_rows(raw)
    return cleaned.drop_duplicates(["customer_id", "date"], keep="last").reset_index(drop=True)


def clean_batches(raws: Mapping[date, pd.DataFrame]) -> dict[date, pd.DataFrame]:
    """`clean_batch` of each day's batch, computed once over all of them: the same rows, in a
    third of the time for 30 days (pandas' cost per operation is paid once, not per day)."""
    if not raws:
        return {}
    cleaned = _clean_rows(pd.concat(list(raws.values()), keys=list(raws)))
    batch = cleaned.index.get_level_values(0)
    last = ~cleaned[["customer_id", "date"]].assign(batch=batch).duplicated(keep="last")
    cleaned, batch = cleaned[last], batch[last]
    return {day: cleaned[batch == day].reset_index(drop=True) for day in raws}


def _clean_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """Every rule but the last record of a customer's day; the rows keep their index."""
    out = pd.DataFrame(index=raw.index)
    out["customer_id"] = to_text(raw["customer_id"])
    out["date"] = pd.to_datetime(raw["date"], errors="coerce", format="ISO8601").dt.date
    for column in ("name", "ssn"):
        out[column] = to_text(raw[column]) if column in raw else None
    for column in schema.NUMERIC_FEATURES:
        parse = history_months if column == "credit_history_age" else to_number
        out[column] = within_range(parse(raw[column]), column)
    for column, allowed in schema.CATEGORIES.items():
        out[column] = to_category(raw[column], allowed)
    for column in schema.TEXT_FEATURES:
        out[column] = to_text(raw[column])
    label = raw[schema.LABEL] if schema.LABEL in raw else pd.Series(None, index=raw.index)
    out[schema.LABEL] = to_category(label, schema.CLASSES)
    return out[out["customer_id"].notna() & out["date"].notna()]
