"""`mlops traffic` and `mlops monitor` on a real store (SQLite and MariaDB): the tables, the
report, the MLflow run, and every bad input recorded as "insufficient data", never a trigger."""

from __future__ import annotations

import logging
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
from advanced_mlops.serving.traffic import log_traffic
from advanced_mlops.store import repository
from advanced_mlops.store.bulk import to_records
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
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = fast_settings(
        tmp_path,
        store_url,
        data={"customers": 1500},
        monitoring={"min_rows": 30, "min_labelled": 60},
    )
    last = START + timedelta(days=DAYS - 1)
    generator = Generator(settings.data.seed, settings.data.customers)
    upgrade(store_url)
    days = [START + timedelta(days=i) for i in range(DAYS)]
    ingest_days(
        store_url, generator, days, settings.data.label_delay_days, lambda _: "stable", "gen"
    )
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
    assert result.performance.last_day == last - timedelta(days=settings.data.label_delay_days)
    assert result.report_path is not None
    assert result.report_path.exists()
    assert {p.name for p in result.report_path.parent.glob("*.png")} >= {"drift.png"}
    assert "Monitoring of" in result.report_path.read_text()
    run_data = MlflowClient(settings.store.tracking_uri).get_run(str(result.run_id))
    assert run_data.data.tags["monitoring.status"] == "ok"
    assert "live_macro_f1" in run_data.data.metrics
    with connect(store_url) as conn:
        (stored,) = repository.read_decisions(conn, last, last + timedelta(days=1))
    assert stored["report_path"] == str(result.report_path)
    assert stored["mlflow_run_id"] == result.run_id
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

    # schema_break: a contract failure, not a drift alarm. Its batch is refused at ingestion;
    # should rows of that shape reach the log anyway (keys renamed, income as text), monitoring
    # names the broken fields, judges neither drift nor performance, and triggers nothing.
    breaking = Generator(
        settings.data.seed,
        settings.data.customers,
        scenario=Scenario(ScenarioName.SCHEMA_BREAK, None),
    )
    with pytest.raises(ContractError, match="breaks its contract"):
        ingest_days(store_url, breaking, [last + timedelta(days=2)], 7, lambda _: "x", "gen")
    schema_broken = days[-4]
    with connect(store_url, write=True) as conn:
        day_rows = conn.execute(
            select(prediction_log.c.id, prediction_log.c.features).where(
                prediction_log.c.created_at >= datetime.combine(schema_broken, time()),
                prediction_log.c.created_at < datetime.combine(days[-3], time()),
            )
        ).all()
        shaped = break_schema(pd.DataFrame([features for _, features in day_rows]))
        for (row_id, _), features in zip(day_rows, to_records(shaped, shaped.columns), strict=True):
            conn.execute(
                update(prediction_log)
                .where(prediction_log.c.id == row_id)
                .values(features=features)
            )
    judged = monitor_day(settings, schema_broken, report=False)
    assert judged.decision.status == "insufficient_data"
    assert not judged.decision.retrain
    assert judged.decision.checks == {"quality": "alarm"}  # drift and performance not judged
    reasons = " | ".join(judged.decision.reasons)
    for finding in ("credit_mix is absent", "num_of_loan is absent", "annual_income is missing"):
        assert finding in reasons
    assert f"'CreditMix' ({len(day_rows)})" in reasons
    assert f"'NumLoans' ({len(day_rows)})" in reasons
    with connect(store_url) as conn:
        metrics = repository.read_monitoring_metrics(conn, schema_broken)
    drift_metrics = metrics[metrics["metric"].str.startswith("drift_")]
    assert not drift_metrics.empty  # measured, for the record
    assert drift_metrics["flagged"].isna().all()  # but no drift verdict on broken data
    absent = metrics[metrics["metric"] == "absent_rows"]
    assert sorted(absent["subject"]) == ["credit_mix", "num_of_loan"]
    assert absent["flagged"].astype(bool).all()

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

    # A day of mixed versions: the registered version's rows are judged, the others counted and
    # told. (Only a day of nothing but unknown versions is insufficient data, as above.)
    with connect(store_url, write=True) as conn:
        total = sum(rows_per_version(conn, last).values())
        ids = conn.scalars(
            select(prediction_log.c.id)
            .where(prediction_log.c.created_at >= datetime.combine(last, time()))
            .where(prediction_log.c.created_at < datetime.combine(last + timedelta(days=1), time()))
            .order_by(prediction_log.c.id)
            .limit(5)
        ).all()
        conn.execute(
            update(prediction_log).where(prediction_log.c.id.in_(ids)).values(model_version="998")
        )
    mixed = monitor_day(settings, last, report=False)
    assert mixed.rows_by_version == {version: total - 5, "998": 5}
    assert mixed.rows == total - 5 >= settings.monitoring.min_rows
    assert mixed.decision.status == "ok", mixed.decision.reasons
    assert mixed.decision.checks == {"quality": "ok", "drift": "ok", "performance": "ok"}
    assert any("v998: 5" in r and "left out" in r for r in mixed.decision.reasons)
    assert max(d.rows for d in mixed.drift if d.kind != "text") <= total - 5  # none unknown

    # The decision is stored before the report: a report MLflow refuses (its experiment was
    # deleted) or that cannot be written is a warning, and the decision stays stored.
    client = MlflowClient(settings.store.tracking_uri)
    experiment = client.get_experiment_by_name(settings.monitoring.experiment_name)
    assert experiment is not None
    client.delete_experiment(experiment.experiment_id)
    with caplog.at_level(logging.WARNING, logger="advanced_mlops.monitoring.job"):
        unlogged = monitor_day(settings, last)
    assert unlogged.report_problem is not None
    assert "its MLflow run could not be written" in unlogged.report_problem
    assert unlogged.report_problem in caplog.text
    assert unlogged.run_id is None
    assert unlogged.report_path is not None
    assert unlogged.report_path.exists()
    with connect(store_url) as conn:
        (stored,) = repository.read_decisions(conn, last, last + timedelta(days=1))
    assert (stored["status"], stored["report_path"], stored["mlflow_run_id"]) == (
        "ok",
        str(unlogged.report_path),
        None,
    )
    blocked = days[-5]
    (settings.store.monitoring_dir / blocked.isoformat()).write_text("a file where the folder goes")
    unwritten = monitor_day(settings, blocked)
    assert unwritten.report_problem is not None
    assert "its report could not be written" in unwritten.report_problem
    assert unwritten.report_path is None
    with connect(store_url) as conn:
        (stored,) = repository.read_decisions(conn, blocked, blocked + timedelta(days=1))
    assert stored["status"] == unwritten.decision.status
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
