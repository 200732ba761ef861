"""`mlops demo`: the continuous-training lifecycle, start to finish, on embedded stores.

Story: stable data -> first model promoted; the world changes (concept drift) -> a retrained
model beats the champion on the newest data and is promoted; a model trained before the drift is
then refused by the gate.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import date, timedelta

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from advanced_mlops.cli import render
from advanced_mlops.contracts.suites import SuiteName
from advanced_mlops.contracts.validate import validate
from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import ingest_days
from advanced_mlops.data.scenarios import Scenario, ScenarioName
from advanced_mlops.registry import mlflow_io, promotion
from advanced_mlops.settings import Settings
from advanced_mlops.store.engine import upgrade
from advanced_mlops.training.job import train
from advanced_mlops.training.model import SEARCH_SPACE, grid

START = date(2025, 1, 1)


@dataclass
class Row:
    version: str
    story: str
    base_date: date
    holdout_f1: float = 0.0
    gate: str = "-"
    champion: str = ""


def demo_settings(settings: Settings) -> Settings:
    """Embedded stores in their own folder, so the demo never touches your data."""
    home = settings.home / "demo"
    return settings.model_copy(
        update={
            "home": home,
            "db_url": f"sqlite:///{(home / 'store.db').resolve()}",
            "mlflow_tracking_uri": f"sqlite:///{(home / 'mlflow.db').resolve()}",
        }
    )


def run_demo(base: Settings, days: int, drift_days: int) -> None:
    settings = demo_settings(base)
    shutil.rmtree(settings.home, ignore_errors=True)
    started = time.perf_counter()
    say = render.console.rule
    drift_start = START + timedelta(days=days)
    last_day = drift_start + timedelta(days=drift_days - 1)
    source = Generator(
        settings.seed,
        settings.customers,
        settings.dirt_rate,
        Scenario(ScenarioName.CONCEPT_DRIFT, drift_start),
    )

    say("1. stores")
    upgrade(settings.store_url)
    render.console.print(f"feature/log store: {settings.store_url}")
    render.console.print(f"MLflow tracking:   {settings.tracking_uri}")

    say(f"2. ingest {days} stable days")
    _ingest(settings, source, START, days)
    render.console.print(
        render.contract_table(
            validate(source.batch(drift_start - timedelta(1)), SuiteName.RAW_BATCH),
            only_failures=True,
        )
    )

    rows = []
    say("3. train, gate and promote the first model")
    rows.append(_train_and_gate(settings, drift_start - timedelta(1), "first model, stable data"))

    say(f"4. the world changes: {drift_days} days of concept drift from {drift_start}")
    _ingest(settings, source, drift_start, drift_days)

    say("5. retrain on the newest data: the gate compares it with the champion")
    rows.append(_train_and_gate(settings, last_day, "retrained after the drift"))

    say("6. a model trained before the drift asks for promotion")
    rows.append(
        _train_and_gate(settings, drift_start - timedelta(1), "stale: trained before the drift")
    )

    say("summary")
    champion = mlflow_io.alias_version(settings, mlflow_io.CHAMPION)
    for row in rows:
        row.champion = "champion" if row.version == champion else ""
    render.console.print(
        render.records_table(
            f"newest holdout: labels known by {last_day}",
            [row.__dict__ for row in rows],
            ["version", "story", "base_date", "holdout_f1", "gate", "champion"],
        )
    )
    render.console.print(
        f"finished in {time.perf_counter() - started:.0f} s. Explore the runs with:"
    )
    render.console.print(
        f"  uv run mlflow ui --backend-store-uri {settings.tracking_uri}",
        highlight=False,
        soft_wrap=True,  # one line, so it can be copied
    )


def _ingest(settings: Settings, source: Generator, start: date, days: int) -> None:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=render.console, transient=False) as progress:
        task = progress.add_task("checking contracts and cleaning", total=days)
        day_list = [start + timedelta(days=i) for i in range(days)]
        ingest_days(
            settings.store_url,
            source,
            day_list,
            settings.label_delay_days,
            lambda day: source.scenario.effective(day).value,
            "generator",
            progress=lambda result: progress.update(
                task, advance=1, description=f"ingested {result.day}"
            ),
        )


def _train_and_gate(settings: Settings, base_date: date, story: str) -> Row:
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=render.console
    ) as progress:
        trials = len(list(grid(SEARCH_SPACE)))
        task = progress.add_task(f"tuning on data known by {base_date}", total=trials)
        result = train(settings, base_date, on_trial=lambda _: progress.advance(task))
    render.console.print(
        f"registered v{result.version}: macro-F1 {result.metrics['macro_f1']:.3f} "
        "on its own holdout"
    )
    verdict = promotion.gate(settings, result.version)
    render.console.print(render.gate_table(verdict))
    row = Row(result.version, story, base_date, round(verdict.challenger_metrics["macro_f1"], 4))
    row.gate = "passed" if verdict.passed else "refused"
    if verdict.passed:
        promotion.promote(settings, result.version, reason=f"demo: {story}")
        render.console.print(f"[green]promoted v{result.version} to champion[/]")
    else:
        render.console.print(f"[red]v{result.version} stays a challenger[/]")
    return row
