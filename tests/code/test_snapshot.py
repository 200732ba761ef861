from datetime import date

import pandas as pd
import pytest

from advanced_mlops import schema
from advanced_mlops.errors import MlopsError
from advanced_mlops.training.snapshot import data_hash, point_in_time_join
from advanced_mlops.training.split import time_split


def features(rows: list[tuple[str, date, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "age"])
    for column in schema.FEATURES:
        if column != "age":
            frame[column] = None
    return frame


def labels(rows: list[tuple[str, date, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "label_date", schema.LABEL])


def test_a_label_meets_the_newest_features_known_at_its_date_never_later_ones() -> None:
    feats = features(
        [("A", date(2025, 1, 1), 30), ("A", date(2025, 1, 5), 31), ("A", date(2025, 1, 10), 99),
         ("B", date(2025, 1, 9), 50)]
    )  # fmt: skip
    labs = labels([("A", date(2025, 1, 7), "Poor"), ("B", date(2025, 1, 7), "Good")])
    snap = point_in_time_join(feats, labs)
    assert snap["customer_id"].tolist() == ["A"]  # B's only features come after its label
    assert snap.loc[0, "age"] == 31
    assert snap.loc[0, "feature_date"] == date(2025, 1, 5)
    assert (snap["label_date"] >= snap["feature_date"]).all()


def test_features_older_than_the_lookback_are_not_joined() -> None:
    feats = features([("A", date(2025, 1, 1), 30)])
    labs = labels([("A", date(2025, 3, 1), "Poor")])
    assert point_in_time_join(feats, labs, lookback_days=45).empty
    assert len(point_in_time_join(feats, labs, lookback_days=90)) == 1


def test_data_hash_changes_with_content_only() -> None:
    feats = features([("A", date(2025, 1, 1), 30)])
    snap = point_in_time_join(feats, labels([("A", date(2025, 1, 2), "Poor")]))
    assert data_hash(snap) == data_hash(snap.copy())
    assert data_hash(snap) != data_hash(snap.assign(age=31.0))


def test_time_split_holds_out_the_newest_window(clean_days: pd.DataFrame) -> None:
    split = time_split(clean_days, valid_days=7, holdout_days=7)
    assert split.train["label_date"].max() < split.valid["label_date"].min()
    assert split.valid["label_date"].max() < split.holdout["label_date"].min()
    assert split.holdout["label_date"].max() == clean_days["label_date"].max()
    assert split.holdout["label_date"].nunique() == 7
    assert len(split.train) + len(split.valid) + len(split.holdout) == len(clean_days)


def test_time_split_refuses_too_little_data(clean_days: pd.DataFrame) -> None:
    with pytest.raises(MlopsError, match="too few labelled rows"):
        time_split(clean_days.head(40), valid_days=7, holdout_days=7)
