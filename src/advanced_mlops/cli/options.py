"""Parsing of command-line values into checked types, with errors that name the option."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from advanced_mlops.errors import MlopsError

if TYPE_CHECKING:
    from advanced_mlops.data.sources import Source
    from advanced_mlops.settings import Settings


def parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except (ValueError, TypeError):
        raise MlopsError(f"{option}: {value!r} is not a valid date (YYYY-MM-DD)") from None


def date_range(start: date, days: int) -> list[date]:
    if days < 1:
        raise MlopsError(f"--days: must be at least 1, got {days}")
    return [start + timedelta(days=i) for i in range(days)]


def build_source(
    settings: Settings, scenario: str, scenario_start: str | None, csv: Path | None
) -> tuple[Source, str]:
    """The command's --scenario/--scenario-start/--csv, checked, as a source."""
    from advanced_mlops.data import sources  # pandas: only for the commands that read data

    start = parse_date(scenario_start, "--scenario-start") if scenario_start else None
    return sources.build_source(settings, scenario, start, csv)
