"""ingest -> contracts -> train -> gate -> promote -> rollback through the CLI, on SQLite and on
a real MariaDB database of the test's own."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from mlflow import MlflowClient

from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect
from tests.integration.cli import bound, env_for

pytestmark = pytest.mark.slow


def test_continuous_training_lifecycle(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = env_for(tmp_path, store_url)

    mlops = bound(monkeypatch, capsys, env)

    code, out, _ = mlops("db", "upgrade")
    assert code == 0
    head = max(
        path.name.split("_")[0] for path in (Path(repository.__file__).parent / "migrations" /
        "versions").glob("[0-9]*.py")
    )  # fmt: skip
    assert f"upgraded from empty to revision {head}" in out
    assert f"already at revision {head}" in mlops("db", "upgrade")[1]

    code, out, err = mlops("ingest", "--date", "2025-01-01", "--days", "36")
    assert code == 0, err
    assert "ingested 36 day(s) 2025-01-01..2025-02-05" in out
    reported = re.search(r"(\d+) feature rows, (\d+) labels", out)
    assert reported is not None
    with connect(store_url) as conn:
        counts = repository.table_counts(conn)
        day = repository.day_counts(conn, date(2025, 1, 20))
    assert counts["ingestions"] == 36
    assert counts["features"] == int(reported[1]) > 1000
    assert counts["labels"] == int(reported[2])
    assert counts["labels"] < counts["features"]  # labels arrive 7 days later

    # Re-running a day replaces it: same counts, no duplicates.
    assert mlops("ingest", "--date", "2025-01-20")[0] == 0
    with connect(store_url) as conn:
        assert repository.table_counts(conn) == counts
        assert repository.day_counts(conn, date(2025, 1, 20)) == day

    code, out, _ = mlops("contracts", "check", "--date", "2025-02-05")
    assert code == 0
    assert "contract raw_batch" in out
    assert "contract training_snapshot" in out
    assert "FAILED" not in out

    code, out, err = mlops("train", "--base-date", "2025-02-05")
    assert code == 0, err
    assert "registered credit_score_classifier v1" in out

    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    version = client.get_model_version("credit_score_classifier", "1")
    run_data = client.get_run(version.run_id)
    for metric in ("accuracy", "macro_f1", "log_loss", "precision_poor", "recall_good"):
        assert metric in run_data.data.metrics
    assert run_data.data.tags["lineage.base_date"] == "2025-02-05"
    assert run_data.data.tags["lineage.scenario"] == "stable"
    assert len(run_data.data.tags["lineage.data_hash"]) == 16
    artifacts = {a.path for a in client.list_artifacts(version.run_id, "evaluation")}
    assert artifacts == {
        "evaluation/confusion_matrix.png",
        "evaluation/feature_importances.csv",
        "evaluation/trials.json",
    }
    with connect(store_url) as conn:
        assert repository.table_counts(conn)["training_snapshots"] > 300

    code, out, _ = mlops("gate", "--version", "1")
    assert code == 0
    assert "PASSED" in out
    assert "no champion yet" in out
    assert client.get_model_version("credit_score_classifier", "1").tags["gate.passed"] == "true"
    assert mlops("promote", "--version", "1")[0] == 0
    assert client.get_model_version_by_alias("credit_score_classifier", "champion").version == 1

    # New, drifted days; a second model; a strict gate refuses it and promote respects that.
    ingest = ("ingest", "--date", "2025-02-06", "--days", "8", "--scenario", "concept_drift")
    assert mlops(*ingest)[0] == 0
    assert mlops("train", "--base-date", "2025-02-13")[0] == 0
    env["MLOPS_GATE_MIN_MACRO_F1"] = "0.99"
    code, out, _ = mlops("gate", "--version", "2")
    assert code == 1
    assert "REFUSED" in out
    assert "champion v1" in out
    code, _, err = mlops("promote", "--version", "2")
    assert code != 0
    assert "was refused by the gate" in err
    assert client.get_model_version_by_alias("credit_score_classifier", "champion").version == 1

    code, out, _ = mlops("promote", "--version", "2", "--force", "--reason", "hotfix")
    assert code == 0
    assert "now v2 (was v1)" in out
    previous = client.get_model_version_by_alias("credit_score_classifier", "previous_champion")
    assert previous.version == 1

    code, out, _ = mlops("rollback", "--reason", "bad hotfix")
    assert code == 0
    assert "back to v1 (was v2)" in out
    assert client.get_model_version_by_alias("credit_score_classifier", "champion").version == 1
    assert "previous_champion" not in client.get_registered_model("credit_score_classifier").aliases

    with connect(store_url) as conn:
        history = repository.read_history(conn, "credit_score_classifier")
    assert [(h["event"], h["version"], h["passed"], h["forced"]) for h in history] == [
        ("gate", "1", True, False),
        ("promote", "1", True, False),
        ("gate", "2", False, False),
        ("promote", "2", False, True),
        ("rollback", "1", None, False),
    ]
    assert history[3]["reason"] == "hotfix"
    assert history[4]["from_version"] == "2"
    assert "nothing to roll back to" in mlops("rollback")[2]
    code, out, _ = mlops("history")
    assert code == 0
    assert out.count("promote") == 2
    assert "rollback" in out
    assert "bad hotfix" in out
