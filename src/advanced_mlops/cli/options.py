"""Parsing of command-line values into checked types, with errors that name the option."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from advanced_mlops.data.generator import Generator
from advanced_mlops.data.scenarios import parse_scenario
from advanced_mlops.data.sources import CsvSource, Source
from advanced_mlops.errors import MlopsError
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
    """The generator (with its scenario) or a CSV file, and a name for the lineage."""
    start = parse_date(scenario_start, "--scenario-start") if scenario_start else None
    chosen = parse_scenario(scenario, start)
    if csv is not None:
        return CsvSource(csv), f"csv:{csv}"
    generator = Generator(settings.seed, settings.customers, settings.dirt_rate, chosen)
    return generator, f"generator:seed={settings.seed}"


def scenario_label(source: Source) -> Callable[[date], str]:
    """Which scenario a source produced on each day (`csv` for a file)."""
    if isinstance(source, Generator):
        scenario = source.scenario
        return lambda day: scenario.effective(day).value
    return lambda _day: "csv"
