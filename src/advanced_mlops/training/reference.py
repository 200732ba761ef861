"""The champion's reference profile: what its inputs and outputs looked like in training.

Saved with every model (an MLflow artifact of its run), so a day of traffic is always compared
with the data of the model that served it. Numeric features keep fixed bin edges (deciles of the
reference), so every day is counted into the same bins and no raw reference row is needed later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd
from pydantic import BaseModel

from advanced_mlops import schema

ARTIFACT_PATH = "monitoring/reference.json"
NUMERIC_BINS = 10
NO_TOKEN = "none"  # a text feature that is missing (e.g. a customer without loans)
TOKEN_SPLIT = r",\s*(?:and\s+)?|\s+and\s+"  # "A, B, and C" / "A and B"


class NumericProfile(BaseModel):
    edges: list[float]  # inner edges; bin i holds edges[i-1] <= x < edges[i]
    shares: list[float]  # len(edges) + 1 shares of the non-missing values
    missing: float
    count: int | None = None  # the non-missing values; None in profiles saved before it existed


class CategoryProfile(BaseModel):
    shares: dict[str, float]  # categories of the non-missing values; tokens for a text feature
    missing: float
    count: int | None = None  # the values (or tokens) the shares are over; None: older profile


class ReferenceProfile(BaseModel):
    base_date: date
    label_from: date
    label_to: date
    rows: int
    numeric: dict[str, NumericProfile]
    categorical: dict[str, CategoryProfile]
    text: dict[str, CategoryProfile]  # token shares, over all tokens of the window
    predicted: dict[str, float]  # the model's predicted-class shares on the reference rows
    labels: dict[str, float]
    importances: dict[str, float]  # the model's feature importances, summing to 1

    def important_features(self, top: int) -> list[str]:
        ranked = sorted(self.importances.items(), key=lambda item: -item[1])
        return [name for name, _ in ranked[:top]]

    def sample_size(self, feature: str) -> int:
        """How many values the shares of `feature` were computed from (tokens for a text
        feature): the reference's m in the drift statistics.

        A profile saved before `count` existed gives it from what it stored: the non-missing
        rows; for a text feature a lower bound (every row gives at least one token, and each
        missing row one 'none'), which makes the test a little more cautious, never less.
        """
        profile: NumericProfile | CategoryProfile = (
            self.numeric.get(feature) or self.categorical.get(feature) or self.text[feature]
        )
        if profile.count is not None:
            return profile.count
        present = round(self.rows * (1 - profile.missing))
        if feature not in self.text:
            return present
        none_share = self.text[feature].shares.get(NO_TOKEN, 0.0)
        missing_rows = self.rows * profile.missing
        return max(self.rows, round(missing_rows / none_share) if none_share > 0 else 0)


def token_vocabulary(feature: str) -> tuple[str, ...]:
    """The tokens a text feature is counted over; anything else counts as 'other'."""
    known = schema.LOAN_TYPES if feature == "type_of_loan" else ()
    return (*known, NO_TOKEN, "other")


def numeric_edges(values: np.ndarray, bins: int = NUMERIC_BINS) -> list[float]:
    """Decile edges of the reference, de-duplicated (integer features have fewer distinct cuts)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return []
    cuts = np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])
    return [float(c) for c in np.unique(cuts)]


def bin_counts(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Counts of the non-missing values in the reference's bins."""
    finite = values[np.isfinite(values)]
    return np.bincount(np.searchsorted(edges, finite, side="right"), minlength=len(edges) + 1)


def category_counts(values: Iterable[object], allowed: Sequence[str]) -> dict[str, int]:
    """Counts over `allowed` plus 'other' for a value outside it; missing values are not counted."""
    found = pd.Series(list(values), dtype=object).dropna().astype(str).value_counts()
    counts = {key: int(found.get(key, 0)) for key in allowed}
    counts["other"] = int(found.sum()) - sum(counts.values())
    return counts


def token_counts(values: Iterable[object], feature: str) -> dict[str, int]:
    """Loan types of 'Auto Loan, Payday Loan, and Student Loan'-like values, over the feature's
    vocabulary ('other' for the rest); a missing or blank value counts once as 'none'."""
    column = pd.Series(list(values), dtype=object)
    text = column.where(column.notna(), "").astype(str)
    split = text.str.split(TOKEN_SPLIT, regex=True).explode().str.strip()
    found = split[split != ""].value_counts()
    counts = category_counts([], token_vocabulary(feature)[:-1])  # zeros, 'other' last
    for token, n in found.items():
        key = str(token) if str(token) in counts and token != "other" else "other"
        counts[key] += int(n)
    counts[NO_TOKEN] += int((text.str.strip() == "").sum())
    return counts


def build_reference(
    rows: pd.DataFrame,
    predicted: Iterable[str],
    importances: Mapping[str, float],
    base_date: date,
) -> ReferenceProfile:
    """The profile of `rows` (cleaned features with labels) and the model's predictions on them."""
    numeric = {}
    for name in schema.NUMERIC_FEATURES:
        values = rows[name].to_numpy(dtype=float)
        edges = numeric_edges(values)
        binned = bin_counts(values, edges)
        numeric[name] = NumericProfile(
            edges=edges,
            shares=_array_shares(binned),
            missing=float(np.isnan(values).mean()),
            count=int(binned.sum()),
        )
    categorical = {
        name: _category_profile(category_counts(rows[name], allowed), rows[name])
        for name, allowed in schema.CATEGORIES.items()
    }
    text = {
        name: _category_profile(token_counts(rows[name], name), rows[name])
        for name in schema.TEXT_FEATURES
    }
    total = sum(importances.values()) or 1.0
    label_dates = pd.to_datetime(rows["label_date"])
    return ReferenceProfile(
        base_date=base_date,
        label_from=label_dates.min().date(),
        label_to=label_dates.max().date(),
        rows=len(rows),
        numeric=numeric,
        categorical=categorical,
        text=text,
        predicted=_dict_shares(category_counts(predicted, schema.CLASSES)),
        labels=_dict_shares(category_counts(rows[schema.LABEL], schema.CLASSES)),
        importances={k: float(v) / total for k, v in importances.items()},
    )


def _category_profile(counts: Mapping[str, int], values: pd.Series) -> CategoryProfile:
    return CategoryProfile(
        shares=_dict_shares(counts), missing=float(values.isna().mean()), count=sum(counts.values())
    )


def _dict_shares(counts: Mapping[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {k: (v / total if total else 0.0) for k, v in counts.items()}


def _array_shares(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return [float(c / total) if total else 0.0 for c in counts]
