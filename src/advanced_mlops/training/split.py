"""Time split: train on the past, stop early on the next window, hold out the newest one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from advanced_mlops.errors import MlopsError


@dataclass(frozen=True)
class TimeSplit:
    train: pd.DataFrame
    valid: pd.DataFrame
    holdout: pd.DataFrame


def newest_window(snapshot: pd.DataFrame, days: int) -> pd.Series:
    """Mask of the rows whose label date is within `days` of the newest label."""
    dates = pd.to_datetime(snapshot["label_date"])
    return dates > dates.max() - timedelta(days=days)


def time_split(snapshot: pd.DataFrame, valid_days: int, holdout_days: int) -> TimeSplit:
    if snapshot.empty:
        raise MlopsError("the training snapshot is empty: ingest days with labels first")
    holdout = newest_window(snapshot, holdout_days)
    rest = snapshot[~holdout]
    valid = newest_window(rest, valid_days) if not rest.empty else holdout[~holdout]
    split = TimeSplit(train=rest[~valid], valid=rest[valid], holdout=snapshot[holdout])
    for part in ("train", "valid", "holdout"):
        if len(getattr(split, part)) < 30:
            raise MlopsError(
                f"the snapshot has too few labelled rows for a time split ({part}: "
                f"{len(getattr(split, part))} rows); ingest more days"
            )
    return split
