"""Where raw daily batches come from: the simulator or a CSV export of the same columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Protocol

import pandas as pd

from advanced_mlops.errors import MlopsError


class Source(Protocol):
    """Anything that can hand over the raw batch of one day."""

    def batch(self, day: date) -> pd.DataFrame: ...


@dataclass
class CsvSource:
    """A CSV with the raw columns (at least `date`); each day is the rows dated that day."""

    path: Path

    @cached_property
    def frame(self) -> pd.DataFrame:
        try:
            # Only an empty cell is missing; "NA", "_" and the like reach the cleaning rules.
            frame = pd.read_csv(self.path, dtype=str, keep_default_na=False, na_values=[""])
        except FileNotFoundError:
            raise MlopsError(f"--csv: file not found: {self.path}") from None
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise MlopsError(f"--csv: cannot read {self.path}: {exc}") from None
        if "date" not in frame:
            raise MlopsError(f"--csv: {self.path} has no 'date' column")
        return frame

    def batch(self, day: date) -> pd.DataFrame:
        dates = pd.to_datetime(self.frame["date"], errors="coerce").dt.date
        return self.frame[dates == day].reset_index(drop=True)
