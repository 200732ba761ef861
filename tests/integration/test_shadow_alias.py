"""`mlops shadow` on SQLite and MariaDB with a real champion: the `challenger` alias moves only
for a version that exists, is not the champion, cleared the gate's floors (or --force, recorded)
and scores the champion's features with the champion's signature; every move is in the history,
and each refusal is one line, a non-zero exit and nothing moved or recorded."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import mlflow
import mlflow.catboost
import pytest
from catboost import CatBoostClassifier
from mlflow import MlflowClient
from mlflow.models import infer_signature

from advanced_mlops import schema
from advanced_mlops.inference import predict_proba, to_model_frame
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect
from advanced_mlops.training.model import fit
from advanced_mlops.training.split import time_split
from tests.integration.cli import bound, env_for
from tests.integration.test_gate_attacks import FIT, MODEL, shuffled

pytestmark = pytest.mark.slow

BASE = date(2025, 2, 5)


def register(tracking_uri: str, model: Any, tags: dict[str, str], example: Any = None) -> str:
    """A version registered straight through MLflow's API, with a signature when `example` is
    given (as `mlops train` logs one) and without one otherwise."""
    client = MlflowClient(tracking_uri, tracking_uri)
    mlflow.set_tracking_uri(tracking_uri)
    experiment = client.get_experiment_by_name("credit_score")
    signature = None if example is None else infer_signature(example, predict_proba(model, example))
    with mlflow.start_run(experiment_id=experiment.experiment_id) as started:
        info = mlflow.catboost.log_model(model, name="model", signature=signature)
    created = client.create_model_version(
        MODEL, source=info.model_uri, run_id=started.info.run_id, model_id=info.model_id
    )
    for key, value in tags.items():
        client.set_model_version_tag(MODEL, created.version, key, value)
    return str(created.version)


def signature(version: str) -> dict[str, Any]:
    found = mlflow.models.get_model_info(f"models:/{MODEL}/{version}").signature
    assert found is not None
    return dict(found.to_dict())


def test_the_challenger_alias_moves_only_when_it_should(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = env_for(tmp_path, store_url)
    tracking = env["MLFLOW_TRACKING_URI"]
    client = MlflowClient(tracking, tracking)

    mlops = bound(monkeypatch, capsys, env)

    def aliases() -> dict[str, str]:
        found = client.search_registered_models(f"name='{MODEL}'")
        return {k: str(v) for k, v in found[0].aliases.items()} if found else {}

    def history() -> list[tuple[str, str, bool]]:
        with connect(store_url) as conn:
            events = repository.read_history(conn, MODEL)
        return [(e["event"], e["version"], bool(e["forced"])) for e in events]

    def refused(argv: tuple[str, ...], message: str, **extra: str) -> None:
        before, moved = history(), aliases()
        code, out, err = mlops(*argv, **extra)
        assert code == 2, (argv, out, err)
        assert message in " ".join(err.split()), err  # rich may wrap a long line
        assert err.startswith("error: ")
        assert len(err.splitlines()) == 1, err
        assert (history(), aliases()) == (before, moved)

    assert mlops("db", "upgrade")[0] == 0
    assert mlops("ingest", "--date", "2025-01-01", "--days", "36")[0] == 0
    refused(("shadow", "--clear"), "no challenger to clear")  # nothing registered yet
    assert mlops("train", "--base-date", BASE.isoformat())[0] == 0
    refused(("shadow", "--version", "1"), "no champion")
    assert mlops("gate", "--version", "1")[0] == 0
    assert mlops("promote", "--version", "1")[0] == 0
    lineage = {
        k: v for k, v in client.get_model_version(MODEL, "1").tags.items() if k.startswith("lin")
    }

    refused(("shadow",), "give either --version V or --clear")
    refused(("shadow", "--version", "1", "--clear"), "give either --version V or --clear")
    refused(("shadow", "--version", "99"), f"model {MODEL!r} has no version 99")
    refused(("shadow", "--version", "x1"), "'x1' is not a version number")
    refused(("shadow", "--version", "1"), "--version 1: already the champion")

    with connect(store_url) as conn:
        snapshot = repository.read_snapshot(conn, BASE)
    split = time_split(snapshot, 7, 7)
    example = to_model_frame(split.train.head(3))
    params = {"depth": 4, "l2_leaf_reg": 3.0}

    # Weaker than the champion but above every floor: refused by the gate on the comparison
    # alone, which is what shadow is for. It goes to shadow without --force.
    weak = fit(shuffled(split.train, 0.6), split.valid, params, FIT).model
    v2 = register(tracking, weak, lineage, example)
    refused(("shadow", "--version", v2), f"--version {v2}: has not been through the gate")
    assert mlops("gate", "--version", v2)[0] == 1
    assert client.get_model_version(MODEL, v2).tags["gate.floors_passed"] == "true"
    code, out, _ = mlops("shadow", "--version", v2)
    assert code == 0, out
    assert f"challenger of {MODEL} is now v{v2}" in out
    assert aliases() == {"champion": "1", "challenger": v2}
    refused(("shadow", "--version", v2), f"--version {v2}: already the challenger")

    # Below a floor: refused, then shadowed with --force (and the history says forced).
    v3 = register(tracking, weak, lineage, example)
    assert mlops("gate", "--version", v3, MLOPS_GATE_MIN_MACRO_F1="0.99")[0] == 1
    assert client.get_model_version(MODEL, v3).tags["gate.floors_passed"] == "false"
    refused(("shadow", "--version", v3), f"--version {v3}: failed a floor of the gate")
    code, out, _ = mlops("shadow", "--version", v3, "--force", "--reason", "test")
    assert code == 0, out
    assert f"is now v{v3} (was v{v2})" in out
    moves = [e for e in history() if e[0] != "gate"]
    assert moves[-2:] == [("shadow", v2, False), ("shadow", v3, True)]

    # Another feature set, or another signature: it could not score what the champion scores.
    numeric = to_model_frame(split.train)[list(schema.NUMERIC_FEATURES)]
    narrow = CatBoostClassifier(iterations=20, verbose=False, allow_writing_files=False)
    narrow.fit(numeric, split.train[schema.LABEL])
    v4 = register(tracking, narrow, lineage, numeric.head(3))
    refused(
        ("shadow", "--version", v4, "--force"),
        f"--version {v4}: its features differ from champion v1's (missing ['",
    )
    unsigned = register(tracking, mlflow.catboost.load_model(f"models:/{MODEL}/1"), lineage)
    refused(
        ("shadow", "--version", unsigned, "--force"),
        f"--version {unsigned}: its model signature differs from champion v1's",
    )

    # A signature that differs only in MLflow's `required` marks (which columns happened to have
    # no missing value in the sample it was inferred from) scores the same records: accepted.
    holey = example.copy()
    holey.loc[holey.index[0], list(schema.NUMERIC_FEATURES)] = float("nan")
    twin = register(tracking, mlflow.catboost.load_model(f"models:/{MODEL}/1"), lineage, holey)
    assert signature(twin) != signature("1")
    code, out, _ = mlops("shadow", "--version", twin, "--force")
    assert code == 0, out
    assert mlops("shadow", "--version", v3, "--force")[0] == 0

    code, out, _ = mlops("shadow", "--clear", "--reason", "worse on live labels")
    assert code == 0, out
    assert f"challenger v{v3} of {MODEL} retired" in out
    assert aliases() == {"champion": "1"}
    assert history()[-1] == ("retire", v3, False)
    code, out, _ = mlops("history")
    assert "retire" in out
    assert "worse on live labels" in out

    # Promoting the challenger makes it answer: it leaves the challenger alias.
    assert mlops("shadow", "--version", v2)[0] == 0
    assert mlops("promote", "--version", v2, "--force", "--reason", "test")[0] == 0
    assert aliases() == {"champion": v2, "previous_champion": "1"}
