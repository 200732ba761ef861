"""`mlops traffic` and `mlops monitor` on a real store (SQLite and MariaDB): the tables, the
report, the MLflow run, and every bad input recorded as "insufficient data", never a trigger.

One store per database for the module (40 ingested days, a champion, its traffic on the last 10
days); each scenario works on a day of its own and first logs that day's traffic again (the
request ids are derived from day and customer, so this restores the day exactly)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from sqlalchemy import select, update

from advanced_mlops.contracts.validate import ContractError
from advanced_mlops.data.generator import Generator, break_schema
from advanced_mlops.data.ingest import ingest_days
from advanced_mlops.data.scenarios import Scenario, ScenarioName
from advanced_mlops.monitoring.aggregate import rows_per_version
from advanced_mlops.monitoring.job import monitor_day
from advanced_mlops.registry import promotion
from advanced_mlops.serving.traffic import TrafficResult, log_traffic
from advanced_mlops.settings import Settings
from advanced_mlops.store import repository
from advanced_mlops.store.bulk import to_records
from advanced_mlops.store.engine import connect, upgrade
from advanced_mlops.store.tables import prediction_log
from advanced_mlops.training.job import train
from tests.conftest import START, fast_settings, mariadb_database
from tests.integration.cli import env_for, run

pytestmark = pytest.mark.slow
DAYS = 40
DAY_LIST = [START + timedelta(days=i) for i in range(DAYS)]
LAST = DAY_LIST[-1]


@dataclass(frozen=True)
class Monitored:
    settings: Settings
    home: Path
    version: str
    traffic: list[TrafficResult]

    @property
    def url(self) -> str:
        return self.settings.store.url


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def monitored(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Monitored]:
    home = tmp_path_factory.mktemp(f"monitored-{request.param}")
    sqlite = f"sqlite:///{home / 'store.db'}"
    with nullcontext(sqlite) if request.param == "sqlite" else mariadb_database() as url:
        settings = fast_settings(
            home, url, data={"customers": 1500}, monitoring={"min_rows": 30, "min_labelled": 60}
        )
        upgrade(url)
        generator = Generator(settings.data.seed, settings.data.customers)
        ingest_days(
            url, generator, DAY_LIST, settings.data.label_delay_days, lambda _: "stable", "gen"
        )
        version = train(settings, LAST - timedelta(days=10)).version
        promotion.promote(settings, version, "test", force=True)
        traffic = [log_traffic(settings, day) for day in DAY_LIST[-10:]]
        yield Monitored(settings, home, version, traffic)


def day_rows(url: str, day: date) -> list[tuple[int, dict[str, object]]]:
    """(id, features) of the day's log rows."""
    with connect(url) as conn:
        return [
            (row.id, row.features)
            for row in conn.execute(
                select(prediction_log.c.id, prediction_log.c.features).where(
                    prediction_log.c.created_at >= datetime.combine(day, time()),
                    prediction_log.c.created_at < datetime.combine(day + timedelta(days=1), time()),
                )
            )
        ]


def set_features(url: str, changed: list[tuple[int, dict[str, object]]]) -> None:
    with connect(url, write=True) as conn:
        for row_id, features in changed:
            conn.execute(
                update(prediction_log)
                .where(prediction_log.c.id == row_id)
                .values(features=features)
            )


def test_traffic_is_logged_once_per_customer_record(monitored: Monitored) -> None:
    """The same rows as the service writes; re-running a day replaces its rows."""
    again = log_traffic(monitored.settings, LAST)
    with connect(monitored.url) as conn:
        rows = conn.execute(select(prediction_log)).mappings().all()
        assert repository.day_counts(conn, LAST)["features"] == again.rows
    assert len(rows) == sum(t.rows for t in monitored.traffic)
    assert set(rows[0]["features"]) == {*repository.FEATURE_ROW} - {"customer_id", "date"}


def test_a_normal_day_is_judged_stored_once_and_reported(monitored: Monitored) -> None:
    settings = monitored.settings
    log_traffic(settings, LAST)
    result = monitor_day(settings, LAST)
    assert result.decision.status == "ok", result.decision.reasons
    assert result.performance is not None
    assert result.performance.rows >= 60
    assert result.performance.last_day == LAST - timedelta(days=settings.data.label_delay_days)
    assert result.report_path is not None
    assert result.report_path.exists()
    assert {p.name for p in result.report_path.parent.glob("*.png")} >= {"drift.png"}
    assert "Monitoring of" in result.report_path.read_text()
    run_data = MlflowClient(settings.store.tracking_uri).get_run(str(result.run_id))
    assert run_data.data.tags["monitoring.status"] == "ok"
    assert "live_macro_f1" in run_data.data.metrics
    with connect(monitored.url) as conn:
        (stored,) = repository.read_decisions(conn, LAST, LAST + timedelta(days=1))
    assert stored["report_path"] == str(result.report_path)
    assert stored["mlflow_run_id"] == result.run_id
    monitor_day(settings, LAST, report=False)  # a re-run replaces the day
    with connect(monitored.url) as conn:
        metrics = repository.read_monitoring_metrics(conn, LAST)
        (decision,) = repository.read_decisions(conn, LAST, LAST + timedelta(days=1))
    assert not metrics.duplicated(["metric", "subject"]).any()
    assert {"drift_psi", "drift_cramers_v", "missing_rate", "live_macro_f1"} <= set(
        metrics["metric"]
    )
    assert decision["status"] == "ok"
    assert decision["details"]["labelled_rows"] == result.performance.rows


def test_days_without_traffic_or_labels_are_recorded_not_triggered(monitored: Monitored) -> None:
    quiet = monitor_day(monitored.settings, LAST + timedelta(days=1), report=False)
    assert quiet.decision.status == "insufficient_data"
    assert not quiet.decision.retrain
    assert any("no predictions were logged" in r for r in quiet.decision.reasons)
    early = monitor_day(monitored.settings, DAY_LIST[-10], report=False)  # labels not yet there
    assert early.decision.checks["performance"] == "insufficient_data"
    assert not early.decision.retrain


def test_rows_of_versions_the_registry_does_not_know_are_left_out(monitored: Monitored) -> None:
    day = DAY_LIST[-2]
    log_traffic(monitored.settings, day)
    with connect(monitored.url, write=True) as conn:
        conn.execute(
            update(prediction_log)
            .where(prediction_log.c.created_at >= datetime.combine(day, time()))
            .where(prediction_log.c.created_at < datetime.combine(LAST, time()))
            .values(model_version="999")
        )
    unknown = monitor_day(monitored.settings, day, report=False)
    assert unknown.decision.status == "insufficient_data"
    assert any("v999" in r for r in unknown.decision.reasons)


def test_a_feature_absent_from_logged_rows_is_a_quality_finding(monitored: Monitored) -> None:
    """An upstream schema change leaking into requests: judged neither for drift nor trigger."""
    day = DAY_LIST[-3]
    log_traffic(monitored.settings, day)
    rows = day_rows(monitored.url, day)
    set_features(
        monitored.url, [(i, {k: v for k, v in f.items() if k != "credit_mix"}) for i, f in rows]
    )
    broken = monitor_day(monitored.settings, day, report=False)
    assert broken.decision.status == "insufficient_data"
    assert not broken.decision.retrain
    assert any("credit_mix is absent" in r for r in broken.decision.reasons)


def test_a_schema_break_is_a_contract_failure_never_a_drift_alarm(monitored: Monitored) -> None:
    """Its batch is refused at ingestion; should rows of that shape reach the log anyway (keys
    renamed, income as text), monitoring names the broken fields, judges neither drift nor
    performance, and triggers nothing."""
    settings = monitored.settings
    breaking = Generator(
        settings.data.seed,
        settings.data.customers,
        scenario=Scenario(ScenarioName.SCHEMA_BREAK, None),
    )
    with pytest.raises(ContractError, match="breaks its contract"):
        ingest_days(monitored.url, breaking, [LAST + timedelta(days=2)], 7, lambda _: "x", "gen")
    day = DAY_LIST[-4]
    log_traffic(settings, day)
    rows = day_rows(monitored.url, day)
    shaped = break_schema(pd.DataFrame([features for _, features in rows]))
    records = to_records(shaped, shaped.columns)
    set_features(monitored.url, [(i, f) for (i, _), f in zip(rows, records, strict=True)])
    judged = monitor_day(settings, day, report=False)
    assert judged.decision.status == "insufficient_data"
    assert not judged.decision.retrain
    assert judged.decision.checks == {"quality": "alarm"}  # drift and performance not judged
    reasons = " | ".join(judged.decision.reasons)
    for finding in ("credit_mix is absent", "num_of_loan is absent", "annual_income is missing"):
        assert finding in reasons
    assert f"'CreditMix' ({len(rows)})" in reasons
    assert f"'NumLoans' ({len(rows)})" in reasons
    with connect(monitored.url) as conn:
        metrics = repository.read_monitoring_metrics(conn, day)
    drift_metrics = metrics[metrics["metric"].str.startswith("drift_")]
    assert not drift_metrics.empty  # measured, for the record
    assert drift_metrics["flagged"].isna().all()  # but no drift verdict on broken data
    absent = metrics[metrics["metric"] == "absent_rows"]
    assert sorted(absent["subject"]) == ["credit_mix", "num_of_loan"]
    assert absent["flagged"].astype(bool).all()


def test_the_command_prints_a_table_or_one_line(
    monitored: Monitored, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**env_for(monitored.home, monitored.url), "MLOPS_CUSTOMERS": "1500"}
    outcome = run(monkeypatch, capsys, env, "monitor", "--date", str(LAST), "--no-report")
    assert outcome.code == 0, outcome.err
    assert f"monitoring {LAST}" in outcome.out
    outcome = run(monkeypatch, capsys, env, "monitor", "--date", "2025-02-30")
    assert outcome.code != 0
    assert outcome.err.strip().count("\n") == 0
    assert "--date" in outcome.err
    outcome = run(monkeypatch, capsys, env, "traffic", "--date", "2024-01-01")
    assert outcome.code != 0
    assert "no feature rows" in outcome.err


def test_a_day_of_mixed_versions_is_judged_on_the_registered_one(monitored: Monitored) -> None:
    """Only a day of nothing but unknown versions is insufficient data."""
    settings = monitored.settings
    log_traffic(settings, LAST)
    with connect(monitored.url, write=True) as conn:
        total = sum(rows_per_version(conn, LAST).values())
        ids = conn.scalars(
            select(prediction_log.c.id)
            .where(prediction_log.c.created_at >= datetime.combine(LAST, time()))
            .where(prediction_log.c.created_at < datetime.combine(LAST + timedelta(days=1), time()))
            .order_by(prediction_log.c.id)
            .limit(5)
        ).all()
        conn.execute(
            update(prediction_log).where(prediction_log.c.id.in_(ids)).values(model_version="998")
        )
    try:
        mixed = monitor_day(settings, LAST, report=False)
    finally:
        log_traffic(settings, LAST)
    assert mixed.rows_by_version == {monitored.version: total - 5, "998": 5}
    assert mixed.rows == total - 5 >= settings.monitoring.min_rows
    assert mixed.decision.status == "ok", mixed.decision.reasons
    assert mixed.decision.checks == {"quality": "ok", "drift": "ok", "performance": "ok"}
    assert any("v998: 5" in r and "left out" in r for r in mixed.decision.reasons)
    assert max(d.rows for d in mixed.drift if d.kind != "text") <= total - 5  # none unknown


def test_a_report_mlflow_refuses_leaves_the_decision_stored(
    monitored: Monitored, caplog: pytest.LogCaptureFixture
) -> None:
    """The decision is stored before the report: a report whose MLflow experiment was deleted is
    a warning, and the decision stays stored."""
    settings = monitored.settings
    log_traffic(settings, LAST)
    monitor_day(settings, LAST)  # the monitoring experiment exists
    client = MlflowClient(settings.store.tracking_uri)
    experiment = client.get_experiment_by_name(settings.monitoring.experiment_name)
    assert experiment is not None
    client.delete_experiment(experiment.experiment_id)
    try:
        with caplog.at_level(logging.WARNING, logger="advanced_mlops.monitoring.job"):
            unlogged = monitor_day(settings, LAST)
    finally:
        client.restore_experiment(experiment.experiment_id)
    assert unlogged.report_problem is not None
    assert "its MLflow run could not be written" in unlogged.report_problem
    assert unlogged.report_problem in caplog.text
    assert unlogged.run_id is None
    assert unlogged.report_path is not None
    assert unlogged.report_path.exists()
    with connect(monitored.url) as conn:
        (stored,) = repository.read_decisions(conn, LAST, LAST + timedelta(days=1))
    assert (stored["status"], stored["report_path"], stored["mlflow_run_id"]) == (
        "ok",
        str(unlogged.report_path),
        None,
    )


def test_a_report_that_cannot_be_written_leaves_the_decision_stored(
    monitored: Monitored, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = monitored.settings
    blocked = DAY_LIST[-5]
    log_traffic(settings, blocked)
    folder = settings.store.monitoring_dir / blocked.isoformat()
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("a file where the folder goes")
    unwritten = monitor_day(settings, blocked)
    assert unwritten.report_problem is not None
    assert "its report could not be written" in unwritten.report_problem
    assert unwritten.report_path is None
    with connect(monitored.url) as conn:
        (stored,) = repository.read_decisions(conn, blocked, blocked + timedelta(days=1))
    assert stored["status"] == unwritten.decision.status
    env = {**env_for(monitored.home, monitored.url), "MLOPS_CUSTOMERS": "1500"}
    outcome = run(monkeypatch, capsys, env, "monitor", "--date", str(blocked))
    assert outcome.code == 0, outcome.err
    assert "warning:" in outcome.out
    assert "could not be written" in outcome.out


def test_monitoring_without_a_champion_is_insufficient_data(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(settings.store.url)
    result = monitor_day(settings, date(2025, 3, 1), report=False)
    assert result.decision.status == "insufficient_data"
    assert any("no champion" in r for r in result.decision.reasons)
