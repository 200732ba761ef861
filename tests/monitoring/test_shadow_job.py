"""A challenger judged on live labels, end to end on a real store: traffic logs its shadow results
with each row, `monitor_day` stores the paired figures with the day's metrics and shows them in
the report, and the monitoring DAG's task retires a worse challenger and promotes a better one
through the one promote path, the live figures recorded as the reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import mlflow
import mlflow.catboost
import pytest
from mlflow import MlflowClient
from mlflow.models import infer_signature

from advanced_mlops import mlflow_io
from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import ingest_days
from advanced_mlops.inference import predict_proba, to_model_frame
from advanced_mlops.orchestration.tasks import monitor
from advanced_mlops.registry import promotion, shadow
from advanced_mlops.serving.traffic import log_traffic
from advanced_mlops.settings import Settings
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, upgrade
from advanced_mlops.training.job import train
from advanced_mlops.training.model import fit
from advanced_mlops.training.split import time_split
from tests.conftest import START, fast_settings
from tests.integration.test_gate_attacks import FIT, shuffled

pytestmark = pytest.mark.slow
DAYS = 40
DAY_LIST = [START + timedelta(days=i) for i in range(DAYS)]
LAST = DAY_LIST[-1]
SHADOW_DAYS = DAY_LIST[-10:]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """40 stable days, a champion trained 10 days before the end; the monitoring task reads
    the same settings from the environment, as in Airflow."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monitoring = {"min_rows": 30, "min_labelled": 60, "shadow_min_labelled_rows": 100}
    settings = fast_settings(tmp_path, url, data={"customers": 1500}, monitoring=monitoring)
    for key, value in {
        "MLOPS_HOME": str(tmp_path),
        "MLOPS_DB_URL": url,
        "MLFLOW_TRACKING_URI": settings.store.tracking_uri,
        "MLOPS_CUSTOMERS": "1500",
        "MLOPS_MONITOR_MIN_ROWS": "30",
        "MLOPS_MONITOR_MIN_LABELLED": "60",
        "MLOPS_MONITOR_SHADOW_MIN_LABELLED_ROWS": "100",
    }.items():
        monkeypatch.setenv(key, value)
    upgrade(url)
    generator = Generator(settings.data.seed, settings.data.customers)
    ingest_days(url, generator, DAY_LIST, settings.data.label_delay_days, lambda _: "stable", "t")
    return settings


def weak_version(settings: Settings, base: str) -> str:
    """A version fitted on labels 70 % shuffled, with the champion's lineage and a signature."""
    with connect(settings.store.url) as conn:
        snapshot = repository.read_snapshot(conn, LAST - timedelta(days=10))
    split = time_split(snapshot, 7, 7)
    model = fit(shuffled(split.train, 0.7), split.valid, {"depth": 4, "l2_leaf_reg": 3.0}, FIT)
    example = to_model_frame(split.train.head(3))
    tracking = settings.store.tracking_uri
    client = MlflowClient(tracking, tracking)
    mlflow.set_tracking_uri(tracking)
    with mlflow.start_run(experiment_id=mlflow_io.experiment_id(settings)) as run:
        info = mlflow.catboost.log_model(
            model.model,
            name="model",
            signature=infer_signature(example, predict_proba(model.model, example)),
        )
    name = settings.store.model_name
    version = str(
        client.create_model_version(
            name, source=info.model_uri, run_id=run.info.run_id, model_id=info.model_id
        ).version
    )
    for key, value in client.get_model_version(name, base).tags.items():
        if key.startswith("lineage."):
            client.set_model_version_tag(name, version, key, value)
    return version


def aliases(settings: Settings) -> dict[str, str]:
    client = MlflowClient(settings.store.tracking_uri, settings.store.tracking_uri)
    model = client.get_registered_model(settings.store.model_name)
    return {k: str(v) for k, v in model.aliases.items()}


def test_a_worse_challenger_is_retired_and_a_better_one_promoted_on_live_labels(
    store: Settings,
) -> None:
    settings = store
    good = train(settings, LAST - timedelta(days=10)).version
    promotion.promote(settings, good, "test", force=True)
    weak = weak_version(settings, good)

    # The weak version in shadow: judged on live labels, retired by the monitoring task.
    shadow.shadow(settings, weak, force=True, reason="test")
    for day in SHADOW_DAYS:
        log_traffic(settings, day)
    result = monitor(LAST.isoformat())
    assert result["status"] in {"ok", "alert"}
    with connect(settings.store.url) as conn:
        metrics = repository.read_monitoring_metrics(conn, LAST)
        (decision,) = repository.read_decisions(conn, LAST, LAST + timedelta(days=1))
        events = repository.read_history(conn, settings.store.model_name)
    live = metrics[metrics["metric"].str.startswith("shadow_")].set_index("metric")
    assert set(live.index) >= {"shadow_rows", "shadow_macro_f1", "shadow_champion_macro_f1",
                               "shadow_difference", "shadow_lower", "shadow_upper"}  # fmt: skip
    assert set(live["model_version"]) == {weak}
    assert live.loc["shadow_rows", "value"] >= 100
    assert live.loc["shadow_upper", "value"] < 0
    verdict = decision["details"]["shadow"]
    assert verdict["action"] == "retire"
    assert verdict["challenger"] == weak
    assert verdict["first_day"] == SHADOW_DAYS[0].isoformat()
    report = Path(decision["report_path"]).read_text()
    assert "Challenger in shadow" in report
    assert f"Challenger v{weak} beside champion v{good}" in report
    assert events[-1]["event"] == "retire"
    assert events[-1]["version"] == weak
    assert "worse than the champion beyond noise" in events[-1]["reason"]
    assert events[-1]["details"]["live"]["rows"] == verdict["rows"]
    assert aliases(settings) == {"champion": good}

    # The other way round: the weak version answers, the good one is in shadow and promoted on
    # live labels through the promote path (the weak one becomes the previous champion).
    promotion.promote(settings, weak, "test", force=True)
    shadow.shadow(settings, good, force=True, reason="test")
    for day in SHADOW_DAYS:
        log_traffic(settings, day)
    monitor(LAST.isoformat())
    with connect(settings.store.url) as conn:
        events = repository.read_history(conn, settings.store.model_name)
    promoted = events[-1]
    assert (promoted["event"], promoted["version"], promoted["from_version"]) == (
        "promote",
        good,
        weak,
    )
    assert promoted["passed"] is True
    assert promoted["forced"] is False
    assert promoted["reason"].startswith("live evidence: live macro-F1 difference +")
    assert "better than the champion beyond noise" in promoted["reason"]
    assert promoted["details"]["live"]["champion"] == weak
    assert aliases(settings) == {"champion": good, "previous_champion": weak}


def test_under_the_shadow_policy_the_training_dag_sends_models_to_shadow(
    store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLOPS_TRAINING_POLICY=shadow: a version that passed the gate becomes the challenger, not
    the champion; one refused only on the comparison with the champion goes to shadow too."""
    from advanced_mlops.orchestration.tasks import gate_model, keep_champion, promote_model

    monkeypatch.setenv("MLOPS_TRAINING_POLICY", "shadow")
    settings = store
    champion = train(settings, LAST - timedelta(days=10)).version
    promotion.promote(settings, champion, "test", force=True)
    weak = weak_version(settings, champion)
    monkeypatch.setenv("MLOPS_GATE_MAX_LATENCY_MS", "2000")  # a shared machine: not the point
    verdict = gate_model(weak, LAST.isoformat())
    floors = ("macro_f1 (", "recall_poor (", "recall_standard (", "recall_good (")
    assert [f for f in floors if f in verdict["verdict"]], verdict  # a floor: it stays out
    assert keep_champion(weak, verdict["verdict"]).startswith(f"kept champion v{champion}")
    assert aliases(settings) == {"champion": champion}

    monkeypatch.setenv("MLOPS_GATE_MIN_MACRO_F1", "0.4")
    monkeypatch.setenv("MLOPS_GATE_MIN_CLASS_RECALL", "0.2")
    verdict = gate_model(weak, LAST.isoformat())
    assert verdict["passed"] is False
    assert verdict["verdict"].startswith("failed macro_f1_vs_champion (")
    assert "in shadow" in keep_champion(weak, verdict["verdict"])
    assert aliases(settings) == {"champion": champion, "challenger": weak}

    twin = train(settings, LAST - timedelta(days=10)).version  # the same data: the same model
    verdict = gate_model(twin, LAST.isoformat())
    assert verdict["passed"] is True, verdict
    assert (
        promote_model(twin, LAST.isoformat()) == f"challenger v{twin} in shadow (replaced v{weak})"
    )
    assert aliases(settings) == {"champion": champion, "challenger": twin}
