"""The gate attacked the way the world would, on SQLite and on MariaDB, with a real champion: a
weaker challenger, versions registered around `mlops train` (no lineage, fitted on the holdout),
a registry that stops answering between `gate` and `promote`, and a verdict gone stale."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import mlflow
import mlflow.catboost
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from advanced_mlops import schema
from advanced_mlops.settings import TrainingSettings
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect
from advanced_mlops.training.model import fit
from advanced_mlops.training.split import time_split
from tests.conftest import free_port
from tests.integration.cli import bound, env_for

pytestmark = pytest.mark.slow

MODEL = "credit_score_classifier"
BASE = date(2025, 2, 5)
FIT = TrainingSettings(max_iterations=120, early_stopping_rounds=20, threads=1)


def register_around_the_cli(tracking_uri: str, model: Any, tags: dict[str, str]) -> str:
    """A version logged and registered straight through MLflow's API, as anyone can."""
    client = MlflowClient(tracking_uri, tracking_uri)
    mlflow.set_tracking_uri(tracking_uri)
    experiment = client.get_experiment_by_name("credit_score")
    with mlflow.start_run(experiment_id=experiment.experiment_id) as started:
        info = mlflow.catboost.log_model(model, name="model")
    created = client.create_model_version(
        MODEL, source=info.model_uri, run_id=started.info.run_id, model_id=info.model_id
    )
    for key, value in tags.items():
        client.set_model_version_tag(MODEL, created.version, key, value)
    return str(created.version)


def shuffled(rows: pd.DataFrame, share: float, seed: int = 0) -> pd.DataFrame:
    """`rows` with the labels of `share` of them permuted among themselves."""
    rng = np.random.default_rng(seed)
    picked = rng.random(len(rows)) < share
    labels = rows[schema.LABEL].to_numpy().copy()
    labels[picked] = rng.permutation(labels[picked])
    return rows.assign(**{schema.LABEL: labels})


def test_the_gate_cannot_be_fooled(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = env_for(tmp_path, store_url)
    tracking = env["MLFLOW_TRACKING_URI"]
    client = MlflowClient(tracking, tracking)

    mlops = bound(monkeypatch, capsys, env)

    def champion() -> str:
        return str(client.get_model_version_by_alias(MODEL, "champion").version)

    def history() -> list[tuple[str, str, bool | None]]:
        with connect(store_url) as conn:
            events = repository.read_history(conn, MODEL)
        return [(e["event"], e["version"], e["passed"]) for e in events]

    assert mlops("db", "upgrade")[0] == 0
    assert mlops("ingest", "--date", "2025-01-01", "--days", "36")[0] == 0
    assert mlops("train", "--base-date", BASE.isoformat())[0] == 0
    assert mlops("gate", "--version", "1")[0] == 0
    assert mlops("promote", "--version", "1")[0] == 0
    v1 = client.get_model_version(MODEL, "1")
    lineage = {k: v for k, v in v1.tags.items() if k.startswith("lineage.")}
    assert lineage["lineage.train_label_to"] < "2025-02-05"

    # Every version `mlops train` registers has a model card; `mlops card` adds its verdicts.
    logged = {a.path for a in client.list_artifacts(v1.run_id)}
    assert {"model_card.md", "model_card.json"} <= logged
    code, shown, _ = mlops("card", "--version", "1", "--out", str(tmp_path / "card.md"))
    assert code == 0
    assert f"Model card: {MODEL} v1" in shown
    written = (tmp_path / "card.md").read_text()
    assert written.startswith(f"# Model card: {MODEL} v1")
    assert "labels 2025-01-0" in written
    assert "95% bootstrap interval [" in written
    assert "| occupation | rows | macro-F1 | accuracy |" in written
    assert "| credit_mix | rows | macro-F1 | accuracy |" in written
    assert "passed against no champion: passed every rule" in written
    assert "## Known limits" in written

    with connect(store_url) as conn:
        snapshot = repository.read_snapshot(conn, BASE)
    split = time_split(snapshot, 7, 7)
    params = {"depth": 4, "l2_leaf_reg": 3.0}

    # A weaker challenger, with the lineage `mlops train` would give it: refused by the paired
    # comparison with the champion, while it clears every absolute floor.
    weak = fit(shuffled(split.train, 0.6), split.valid, params, FIT).model
    v2 = register_around_the_cli(tracking, weak, lineage)
    code, out, _ = mlops("gate", "--version", v2)
    assert code == 1
    tags = client.get_model_version(MODEL, v2).tags
    assert tags["gate.passed"] == "false"
    assert float(tags["gate.difference"]) < 0
    assert float(tags["gate.macro_f1"]) >= 0.4  # the floor (MLOPS_GATE_MIN_MACRO_F1) held
    assert "worse than the champion beyond noise" in " ".join(out.split())
    with connect(store_url) as conn:
        verdict = repository.read_history(conn, MODEL)[-1]
    failed = {c["name"] for c in verdict["details"]["checks"] if not c["passed"]}
    assert failed == {"macro_f1_vs_champion"}

    # Fitted on the very rows it is judged on, registered around `mlops train`: without lineage
    # it is refused; with the lineage of what it saw, too. Nothing is recorded either way.
    cheat = fit(snapshot, split.holdout, params, FIT).model
    before = history()
    v3 = register_around_the_cli(tracking, cheat, {})
    code, _, err = mlops("gate", "--version", v3)
    assert code == 2
    assert f"--version {v3}: has no lineage.train_label_to tag" in err
    honest = {**lineage, "lineage.train_label_to": str(snapshot["label_date"].max())}
    v4 = register_around_the_cli(tracking, cheat, honest)
    code, _, err = mlops("gate", "--version", v4)
    assert code == 2
    assert "reaches into the holdout" in err
    assert "no model_card.json" in mlops("card", "--version", v3)[2]
    for version in (v3, v4):
        assert "gate.passed" not in client.get_model_version(MODEL, version).tags
        code, _, err = mlops("promote", "--version", version)
        assert code != 0
        assert "has not been through the gate" in err
    assert history() == before
    assert champion() == "1"

    # An equal model (v1's own, registered again with its lineage) passes against v1.
    v5 = register_around_the_cli(
        tracking, mlflow.catboost.load_model(f"models:/{MODEL}/1"), lineage
    )
    code, out, _ = mlops("gate", "--version", v5)
    assert code == 0, out
    assert client.get_model_version(MODEL, v5).tags["gate.champion"] == "1"

    # The registry stops answering between `gate` and `promote`: one line, a non-zero exit,
    # every alias and the history as they were.
    before = history()
    aliases = client.get_registered_model(MODEL).aliases
    down = {"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{free_port()}"}  # nothing listens there
    down["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    for argv in (("promote", "--version", v5), ("gate", "--version", v5), ("rollback",)):
        code, out, err = mlops(*argv, **down)
        assert code == 2, (argv, out, err)
        assert err.startswith("error: model registry http://127.0.0.1:")
        assert len(err.strip().splitlines()) == 1
        assert "no champion" not in err + out
    assert client.get_registered_model(MODEL).aliases == aliases
    assert history() == before

    # The champion moves: v5's verdict was given against v1 and no longer counts.
    assert mlops("promote", "--version", v2, "--force", "--reason", "test")[0] == 0
    code, _, err = mlops("promote", "--version", v5)
    assert code != 0
    assert f"its passing verdict was given against v1, but the champion is now v{v2}" in err
    assert champion() == v2
    assert mlops("gate", "--version", v5)[0] == 0
    assert mlops("promote", "--version", v5)[0] == 0
    assert champion() == v5

    # The training DAG's promote task meets the same stale verdict and judges again, through
    # `promote_model` itself: a version that beats the new champion is promoted on its second
    # verdict; one that does not is kept out, and the champion stays.
    from advanced_mlops.orchestration.tasks import promote_model

    v6 = register_around_the_cli(tracking, weak, lineage)  # v2's model again
    assert mlops("promote", "--version", v2, "--force", "--reason", "test")[0] == 0
    assert mlops("gate", "--version", v6)[0] == 0  # equal to the champion (v2): passes
    assert mlops("gate", "--version", v5)[0] == 0  # better than v2: passes too
    assert mlops("promote", "--version", v5)[0] == 0  # the champion moves to v5
    with monkeypatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        kept = promote_model(v6, BASE.isoformat())
    assert kept.startswith(f"kept champion v{v5}: challenger v{v6}")
    assert "worse than the champion beyond noise" in kept
    assert champion() == v5
    events = history()
    assert events[-1] == ("gate", v6, False)  # the second verdict, against v5, recorded

    v7 = register_around_the_cli(
        tracking, mlflow.catboost.load_model(f"models:/{MODEL}/1"), lineage
    )
    assert mlops("promote", "--version", v2, "--force", "--reason", "test")[0] == 0
    assert mlops("gate", "--version", v7)[0] == 0  # against v2
    assert mlops("promote", "--version", v5)[0] == 0  # moved again, by hand: v7's verdict stale
    with monkeypatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        assert promote_model(v7, BASE.isoformat()) == v7
    assert champion() == v7
    assert history()[-2:] == [("gate", v7, True), ("promote", v7, True)]
