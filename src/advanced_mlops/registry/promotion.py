"""`mlops gate`, `mlops promote`, `mlops rollback`: the only ways the champion alias moves.

The figures of every verdict go to the model version's tags (visible in the MLflow UI) and to the
promotion history table (queryable next to the business data).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from advanced_mlops import mlflow_io, schema
from advanced_mlops.errors import MlopsError
from advanced_mlops.inference import predict_proba, predict_records, to_model_frame
from advanced_mlops.registry.comparison import Comparison
from advanced_mlops.registry.judge import Judgement, judge
from advanced_mlops.registry.rules import (
    COMPARISON_CHECK,
    GateCheck,
    champion_lineage,
    unseen_holdout_problem,
)
from advanced_mlops.settings import Settings
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, require_current_schema
from advanced_mlops.training.metrics import classification_metrics
from advanced_mlops.training.snapshot import snapshot_at
from advanced_mlops.training.split import newest_window

LATENCY_CALLS = 50
NO_CHAMPION = "none"  # gate.champion of a verdict given when there was no champion


class LineageError(MlopsError):
    """The version's lineage does not prove the holdout is unseen: nothing can judge it."""


class StaleVerdictError(MlopsError):
    """The passing verdict was given against a champion that is no longer the champion."""


@dataclass(frozen=True)
class GateResult:
    version: str
    champion: str | None
    base_date: date
    holdout_rows: int
    judgement: Judgement

    @property
    def challenger_metrics(self) -> dict[str, float]:
        return self.judgement.challenger_metrics

    @property
    def champion_metrics(self) -> dict[str, float] | None:
        return self.judgement.champion_metrics

    @property
    def comparison(self) -> Comparison | None:
        return self.judgement.comparison

    @property
    def checks(self) -> list[GateCheck]:
        return self.judgement.checks

    @property
    def passed(self) -> bool:
        return self.judgement.passed

    @property
    def verdict(self) -> str:
        """One line that says why: the failed rules with their figures, or that all passed."""
        return self.judgement.verdict

    @property
    def floors_passed(self) -> bool:
        """Every absolute rule passed (only the comparison with the champion may have failed):
        such a version may still go to shadow, to be judged on live outcomes."""
        return all(c.passed for c in self.checks if c.name != COMPARISON_CHECK)


def newest_holdout(settings: Settings, base_date: date | None) -> tuple[date, pd.DataFrame]:
    """The newest labelled window the store knows: the same rows for challenger and champion."""
    require_current_schema(settings.store.url)
    with connect(settings.store.url) as conn:
        base = base_date or repository.latest_ingested_day(conn)
        if base is None:
            raise MlopsError("the store holds no ingested days: run `mlops ingest` first")
        snapshot = snapshot_at(conn, base, settings.training.train_window_days)
    if snapshot.empty:
        raise MlopsError(f"no labelled rows known by {base}: nothing to judge the model on")
    return base, snapshot[newest_window(snapshot, settings.training.holdout_days)]


def single_row_latency_ms(model: Any, rows: pd.DataFrame, calls: int = LATENCY_CALLS) -> float:
    """p95 of the single-record path (feature prep + predict), as the service runs it."""
    records = rows.to_dict("records")
    timings = []
    for i in range(calls):
        start = time.perf_counter()
        predict_records(model, [records[i % len(records)]])
        timings.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(timings, 95))


def holdout_proba(settings: Settings, version: str, rows: pd.DataFrame) -> np.ndarray:
    """A registered version's probabilities on snapshot rows, through the one inference path."""
    return predict_proba(mlflow_io.load_model(settings, version), to_model_frame(rows))


def score(settings: Settings, version: str, rows: pd.DataFrame) -> dict[str, float]:
    """A registered version's metrics on labelled snapshot rows."""
    return classification_metrics(rows[schema.LABEL], holdout_proba(settings, version, rows))


def gate(settings: Settings, version: str, base_date: date | None = None) -> GateResult:
    """Judge `version` against the champion on the newest holdout, and record the verdict.

    Refused before any scoring (nothing recorded) when its lineage does not prove that it never
    saw the holdout's labels; the registry failing is an error, never "no champion"."""
    entry = mlflow_io.model_version(settings, version)
    champion = mlflow_io.alias_version(settings, mlflow_io.CHAMPION)
    base, holdout = newest_holdout(settings, base_date)
    holdout_from = pd.to_datetime(holdout["label_date"]).min().date()
    if problem := unseen_holdout_problem(dict(entry.tags), holdout_from):
        raise LineageError(f"--version {version}: {problem}")

    challenger = holdout_proba(settings, version, holdout)
    champion_proba = None
    if champion is not None and champion != version:
        champion_proba = holdout_proba(settings, champion, holdout)
    latency = single_row_latency_ms(mlflow_io.load_model(settings, version), holdout)
    labels = holdout[schema.LABEL].tolist()
    judgement = judge(labels, challenger, champion_proba, latency, settings.gate)
    result = GateResult(version, champion, base, len(holdout), judgement)
    _record_verdict(settings, result)
    return result


def _record_verdict(settings: Settings, result: GateResult) -> None:
    figures = {c.name: round(c.observed, 4) for c in result.checks}
    mlflow_io.set_version_tags(
        settings,
        result.version,
        {
            "gate.passed": str(result.passed).lower(),
            "gate.floors_passed": str(result.floors_passed).lower(),
            "gate.at": datetime.now().isoformat(timespec="seconds"),
            "gate.base_date": result.base_date.isoformat(),
            "gate.holdout_rows": result.holdout_rows,
            "gate.champion": result.champion or NO_CHAMPION,
            **{f"gate.{k}": v for k, v in figures.items()},
            **(
                {"gate.difference": round(result.comparison.difference, 4)}
                if result.comparison
                else {}
            ),
        },
    )
    with connect(settings.store.url, write=True) as conn:
        repository.record_event(
            conn,
            {
                "event": "gate",
                "model_name": settings.store.model_name,
                "version": result.version,
                "from_version": result.champion,
                "passed": result.passed,
                "forced": False,
                "reason": result.verdict,
                "details": {
                    "base_date": result.base_date.isoformat(),
                    "holdout_rows": result.holdout_rows,
                    "checks": [c.__dict__ for c in result.checks],
                    "champion_metrics": result.champion_metrics,
                    "comparison": result.comparison.__dict__ if result.comparison else None,
                },
            },
        )


def promote(settings: Settings, version: str, reason: str, force: bool = False) -> str | None:
    """Make `version` the champion; returns the version it replaced."""
    entry = mlflow_io.model_version(settings, version)
    current = mlflow_io.alias_version(settings, mlflow_io.CHAMPION)
    if current == version:
        raise MlopsError(f"--version {version}: already the champion")
    passed = entry.tags.get("gate.passed") == "true"
    if not passed and not force:
        state = "was refused by" if "gate.passed" in entry.tags else "has not been through"
        raise MlopsError(
            f"--version {version}: {state} the gate; run `mlops gate --version {version}` "
            "or promote with --force"
        )
    judged_against = entry.tags.get("gate.champion")
    if passed and not force and judged_against != (current or NO_CHAMPION):
        then = f"v{judged_against}" if judged_against != NO_CHAMPION else "no champion"
        now = f"v{current}" if current else "none"
        raise StaleVerdictError(
            f"--version {version}: its passing verdict was given against {then}, but the "
            f"champion is now {now}; run `mlops gate --version {version}` again"
        )
    require_current_schema(settings.store.url)
    with connect(settings.store.url, write=True) as conn:
        repository.record_event(
            conn,
            {
                "event": "promote",
                "model_name": settings.store.model_name,
                "version": version,
                "from_version": current,
                "passed": passed,
                "forced": force and not passed,
                "reason": reason,
            },
        )
        # Inside the transaction: if MLflow fails, the history does not claim a promotion.
        moves = [(mlflow_io.PREVIOUS_CHAMPION, current), (mlflow_io.CHAMPION, version)]
        if mlflow_io.alias_version(settings, mlflow_io.CHALLENGER) == version:
            moves.append((mlflow_io.CHALLENGER, None))  # it answers now
        move_aliases(settings, moves)
    return current


def rollback(settings: Settings, reason: str) -> tuple[str, str]:
    """Put the previous champion back; returns (from, to)."""
    current = mlflow_io.alias_version(settings, mlflow_io.CHAMPION)
    previous = mlflow_io.alias_version(settings, mlflow_io.PREVIOUS_CHAMPION)
    if current is None or previous is None:
        raise MlopsError("nothing to roll back to: there is no previous champion")
    require_current_schema(settings.store.url)
    with connect(settings.store.url, write=True) as conn:
        event: dict[str, object] = {
            "event": "rollback",
            "model_name": settings.store.model_name,
            "version": previous,
            "from_version": current,
            "passed": None,
            "forced": False,
            "reason": reason,
        }
        history = repository.read_history(conn, settings.store.model_name)
        lineage = champion_lineage([*history, event])
        repository.record_event(conn, event)
        earlier = lineage[-2] if len(lineage) >= 2 and lineage[-1] == previous else None
        move_aliases(
            settings, [(mlflow_io.CHAMPION, previous), (mlflow_io.PREVIOUS_CHAMPION, earlier)]
        )
    return current, previous


def move_aliases(settings: Settings, moves: list[tuple[str, str | None]]) -> None:
    """Point each alias at its version (None: remove it), in order. The registry has no
    transaction: when it fails midway, the aliases already moved are put back (as far as it
    still answers) before the error goes on, so a failed promotion or rollback never leaves a
    `previous_champion` that names the wrong version beside an unchanged champion."""
    done: list[tuple[str, str | None]] = []
    try:
        for alias, version in moves:
            before = mlflow_io.alias_version(settings, alias)
            mlflow_io.set_alias(settings, alias, version)
            done.append((alias, before))
    except MlopsError:
        for alias, before in reversed(done):
            with contextlib.suppress(MlopsError):
                mlflow_io.set_alias(settings, alias, before)
        raise


def history(settings: Settings) -> list[dict[str, Any]]:
    require_current_schema(settings.store.url)
    with connect(settings.store.url) as conn:
        return repository.read_history(conn, settings.store.model_name)
