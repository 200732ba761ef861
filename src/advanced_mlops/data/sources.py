"""Where raw daily batches come from: the simulator or a CSV export of the same columns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Protocol

import pandas as pd

from advanced_mlops.data.generator import Generator
from advanced_mlops.data.scenarios import parse_scenario
from advanced_mlops.errors import MlopsError
from advanced_mlops.settings import Settings


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


def build_source(
    settings: Settings, scenario: str, scenario_start: date | None, csv: Path | None
) -> tuple[Source, str]:
    """The CSV file when given, else the simulator with its scenario; and a name for lineage."""
    if csv is not None:
        return CsvSource(csv), f"csv:{csv}"
    chosen = parse_scenario(scenario, scenario_start)
    generator = Generator(
        settings.data.seed, settings.data.customers, settings.data.dirt_rate, chosen
    )
    return generator, f"generator:seed={settings.data.seed}"


def source_from_settings(settings: Settings) -> Source:
    """The source the scheduled pipelines read: MLOPS_SOURCE_CSV, else MLOPS_SCENARIO."""
    return build_source(
        settings, settings.data.scenario, settings.data.scenario_start, settings.data.source_csv
    )[0]


def scenario_of(source: Source) -> Callable[[date], str]:
    """Which scenario a source produced on each day (`csv` for a file)."""
    if isinstance(source, Generator):
        return source.scenario.label
    return lambda _day: "csv"
