"""`mlops traffic` and `mlops monitor` on a real store (SQLite and MariaDB): the tables, the
report, the MLflow run, and every bad input recorded as "insufficient data", never a trigger."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from mlflow import MlflowClient
from sqlalchemy import select, update

from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import ingest_days
from advanced_mlops.data.scenarios import Scenario, ScenarioName
from advanced_mlops.errors import ContractError
from advanced_mlops.monitoring.job import monitor_day
from advanced_mlops.monitoring.traffic import log_traffic
from advanced_mlops.registry import promotion
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, upgrade
from advanced_mlops.store.tables import prediction_log
from advanced_mlops.training.job import train
from tests.conftest import START, fast_settings
from tests.integration.cli import env_for, run

pytestmark = pytest.mark.slow
DAYS = 40


def test_monitoring_on_a_real_store(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = fast_settings(
        tmp_path, store_url, customers=1500, monitor_min_rows=30, monitor_min_labelled=60
    )
    last = START + timedelta(days=DAYS - 1)
    generator = Generator(settings.seed, settings.customers)
    upgrade(store_url)
    days = [START + timedelta(days=i) for i in range(DAYS)]
    ingest_days(store_url, generator, days, settings.label_delay_days, lambda _: "stable", "gen")
    version = train(settings, last - timedelta(days=10)).version
    promotion.promote(settings, version, "test", force=True)

    # Traffic: the same rows as the service writes, once per customer record; re-running a day
    # replaces its rows instead of adding to them.
    logged = [log_traffic(settings, day) for day in days[-10:]]
    again = log_traffic(settings, days[-1])
    with connect(store_url) as conn:
        rows = conn.execute(select(prediction_log)).mappings().all()
        assert repository.day_counts(conn, days[-1])["features"] == again.rows
    assert len(rows) == sum(t.rows for t in logged)
    assert set(rows[0]["features"]) == {
        *repository.FEATURE_ROW,
    } - {"customer_id", "date"}

    # A normal day: everything judged, stored once per day and metric, report and MLflow run.
    result = monitor_day(settings, last)
    assert result.decision.status == "ok", result.decision.reasons
    assert result.performance is not None
    assert result.performance.rows >= 60
    assert result.performance.last_day == last - timedelta(days=settings.label_delay_days)
    assert result.report_path is not None
    assert result.report_path.exists()
    assert {p.name for p in result.report_path.parent.glob("*.png")} >= {"drift.png"}
    assert "Monitoring of" in result.report_path.read_text()
    run_data = MlflowClient(settings.tracking_uri).get_run(str(result.run_id))
    assert run_data.data.tags["monitoring.status"] == "ok"
    assert "live_macro_f1" in run_data.data.metrics
    monitor_day(settings, last, report=False)  # a re-run replaces the day
    with connect(store_url) as conn:
        metrics = repository.read_monitoring_metrics(conn, last)
        decisions = repository.read_decisions(conn, START, last + timedelta(days=1))
    assert not metrics.duplicated(["metric", "subject"]).any()
    assert {"drift_psi", "drift_cramers_v", "missing_rate", "live_macro_f1"} <= set(
        metrics["metric"]
    )
    assert [d["status"] for d in decisions] == ["ok"]
    assert decisions[0]["details"]["labelled_rows"] == result.performance.rows

    # A day without traffic, and a day whose labels have not arrived: recorded, not triggered.
    quiet = monitor_day(settings, last + timedelta(days=1), report=False)
    assert quiet.decision.status == "insufficient_data"
    assert not quiet.decision.retrain
    assert any("no predictions were logged" in r for r in quiet.decision.reasons)
    early = monitor_day(settings, days[-10], report=False)  # labels of its window not yet there
    assert early.decision.checks["performance"] == "insufficient_data"
    assert not early.decision.retrain

    # Rows from a version the registry does not know are left out, and said so.
    with connect(store_url, write=True) as conn:
        conn.execute(
            update(prediction_log)
            .where(prediction_log.c.created_at >= datetime.combine(days[-2], datetime.min.time()))
            .where(prediction_log.c.created_at < datetime.combine(last, datetime.min.time()))
            .values(model_version="999")
        )
    unknown = monitor_day(settings, days[-2], report=False)
    assert unknown.decision.status == "insufficient_data"
    assert any("v999" in r for r in unknown.decision.reasons)

    # A feature missing from the logged rows (an upstream schema change leaking into requests).
    with connect(store_url, write=True) as conn:
        day_rows = conn.execute(
            select(prediction_log.c.id, prediction_log.c.features).where(
                prediction_log.c.created_at >= datetime.combine(days[-3], datetime.min.time()),
                prediction_log.c.created_at < datetime.combine(days[-2], datetime.min.time()),
            )
        ).all()
        for row_id, features in day_rows:
            features = {k: v for k, v in features.items() if k != "credit_mix"}
            conn.execute(
                update(prediction_log)
                .where(prediction_log.c.id == row_id)
                .values(features=features)
            )
    broken = monitor_day(settings, days[-3], report=False)
    assert broken.decision.status == "insufficient_data"
    assert not broken.decision.retrain
    assert any("credit_mix is absent" in r for r in broken.decision.reasons)

    # schema_break: a contract failure at ingestion; nothing is logged, nothing is triggered.
    breaking = Generator(
        settings.seed, settings.customers, scenario=Scenario(ScenarioName.SCHEMA_BREAK, None)
    )
    with pytest.raises(ContractError, match="breaks its contract"):
        ingest_days(store_url, breaking, [last + timedelta(days=2)], 7, lambda _: "x", "gen")
    after_break = monitor_day(settings, last + timedelta(days=2), report=False)
    assert after_break.decision.status == "insufficient_data"

    # The command: a table on success, one line on bad input.
    env = {**env_for(tmp_path, store_url), "MLOPS_CUSTOMERS": "1500"}
    outcome = run(monkeypatch, capsys, env, "monitor", "--date", str(last), "--no-report")
    assert outcome.code == 0, outcome.err
    assert f"monitoring {last}" in outcome.out
    outcome = run(monkeypatch, capsys, env, "monitor", "--date", "2025-02-30")
    assert outcome.code != 0
    assert outcome.err.strip().count("\n") == 0
    assert "--date" in outcome.err
    outcome = run(monkeypatch, capsys, env, "traffic", "--date", "2024-01-01")
    assert outcome.code != 0
    assert "no feature rows" in outcome.err


def test_monitoring_without_a_champion_is_insufficient_data(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(settings.store_url)
    result = monitor_day(settings, date(2025, 3, 1), report=False)
    assert result.decision.status == "insufficient_data"
    assert any("no champion" in r for r in result.decision.reasons)
