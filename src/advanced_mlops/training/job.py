"""`mlops train`: snapshot -> contract -> time split -> tune -> evaluate -> MLflow + registry."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from advanced_mlops import mlflow_io, schema
from advanced_mlops.contracts.suites import SuiteName
from advanced_mlops.contracts.validate import ContractError, broken_contract
from advanced_mlops.errors import MlopsError
from advanced_mlops.inference import predict_proba, to_model_frame
from advanced_mlops.settings import Settings
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, require_current_schema
from advanced_mlops.store.tables import ingestions
from advanced_mlops.training.card import ARTIFACT_JSON as CARD_JSON
from advanced_mlops.training.card import ARTIFACT_MD as CARD_MD
from advanced_mlops.training.card import card_figures, render_card
from advanced_mlops.training.metrics import classification_metrics, confusion_matrix_plot
from advanced_mlops.training.model import BASE_PARAMS, Trial, feature_importances, tune
from advanced_mlops.training.reference import ARTIFACT_PATH, ReferenceProfile, build_reference
from advanced_mlops.training.snapshot import class_shares, data_hash, snapshot_at
from advanced_mlops.training.split import newest_window, time_split


@dataclass(frozen=True)
class TrainResult:
    version: str
    run_id: str
    metrics: dict[str, float]
    best_params: dict[str, Any]
    rows: dict[str, int]
    data_hash: str


def training_key(settings: Settings, base_date: date, snapshot_hash: str) -> str:
    """What makes two trainings the same model: the snapshot's rows and every setting that shapes
    the fit, the split and the monitoring reference (the fit itself is seeded)."""
    shape = {
        **settings.training.model_dump(),
        "base_params": BASE_PARAMS,
        "reference_days": settings.monitoring.reference_days,
    }
    key = json.dumps([base_date.isoformat(), snapshot_hash, shape], sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def trained_version(settings: Settings, base_date: date, snapshot: pd.DataFrame) -> str | None:
    """The registered version already trained on this snapshot with these settings, if any."""
    key = training_key(settings, base_date, data_hash(snapshot))
    return mlflow_io.version_tagged(settings, "lineage.training_key", key)


def build_snapshot(settings: Settings, base_date: date) -> pd.DataFrame:
    """The point-in-time snapshot as known on `base_date`, contract-checked, then stored.

    Its own step so that a DAG can fail at the contract before any training starts.
    """
    require_current_schema(settings.store.url)
    with connect(settings.store.url, write=True, bulk=True) as conn:
        snapshot = snapshot_at(conn, base_date, settings.training.train_window_days)
        if snapshot.empty:
            raise MlopsError(
                f"--base-date {base_date}: no labelled rows known by then; ingest days first"
            )
        if broken := broken_contract(snapshot, SuiteName.TRAINING_SNAPSHOT):
            raise ContractError(
                f"training snapshot of {base_date} refused: {broken.summary()}", base_date, broken
            )
        repository.replace_snapshot(conn, base_date, snapshot)
    return snapshot


def stored_snapshot(settings: Settings, base_date: date) -> pd.DataFrame:
    """The snapshot `build_snapshot` stored for `base_date` (what a later DAG task trains on)."""
    with connect(settings.store.url) as conn:
        snapshot = repository.read_snapshot(conn, base_date)
    if snapshot.empty:
        raise MlopsError(f"--base-date {base_date}: no stored snapshot; build it first")
    return snapshot


def _scenarios(settings: Settings, base_date: date) -> list[str]:
    window_start = base_date - timedelta(days=settings.training.train_window_days)
    with connect(settings.store.url) as conn:
        query = select(ingestions.c.scenario).where(
            ingestions.c.date.between(window_start, base_date)
        )
        return sorted(set(conn.scalars(query)))


def train(
    settings: Settings,
    base_date: date,
    on_trial: Callable[[Trial], None] = lambda _: None,
    snapshot: pd.DataFrame | None = None,
) -> TrainResult:
    """Train on what the store knew on `base_date` and register the model as a new version.

    `snapshot` is one `build_snapshot` already made and stored; without it, it is built here.
    """
    if snapshot is None:
        snapshot = build_snapshot(settings, base_date)
    scenarios = _scenarios(settings, base_date)
    split = time_split(snapshot, settings.training.valid_days, settings.training.holdout_days)
    best, trials = tune(split.train, split.valid, settings.training, on_trial=on_trial)
    proba = predict_proba(best.model, to_model_frame(split.holdout))
    metrics = classification_metrics(split.holdout[schema.LABEL], proba)
    rows = {"train": len(split.train), "valid": len(split.valid), "holdout": len(split.holdout)}
    digest = data_hash(snapshot)
    lineage: dict[str, object] = {
        "base_date": base_date.isoformat(),
        "data_hash": digest,
        "training_key": training_key(settings, base_date, digest),
        "scenario": ",".join(scenarios) or "unknown",
        "label_from": str(snapshot["label_date"].min()),
        "label_to": str(snapshot["label_date"].max()),
        # The last label the model learnt from (fit or early stopping): a gate's holdout must
        # start after it (registry.rules.unseen_holdout_problem).
        "train_label_to": str(pd.concat([split.train, split.valid])["label_date"].max()),
        **{f"rows_{k}": v for k, v in rows.items()},
    }
    reference = monitoring_reference(settings, split.train, best.model, base_date)
    card = card_figures(split.holdout, proba, seed=settings.training.seed)
    run_id, version = _log_to_mlflow(
        settings, best, trials, metrics, lineage, split, proba, reference, card
    )
    return TrainResult(version, run_id, metrics, best.params, rows, digest)


def monitoring_reference(
    settings: Settings, trained_on: pd.DataFrame, model: Any, base_date: date
) -> ReferenceProfile:
    """What monitoring compares traffic with: the newest label days the model was fitted on (not
    its validation or holdout weeks: drift must last until a model has learned the new data),
    the model's predictions on them and its feature importances."""
    rows = trained_on[newest_window(trained_on, settings.monitoring.reference_days)]
    predicted = np.asarray(schema.CLASSES)[predict_proba(model, to_model_frame(rows)).argmax(1)]
    importances = feature_importances(model)
    return build_reference(
        rows,
        predicted.tolist(),
        dict(zip(importances["feature"], importances["importance"], strict=True)),
        base_date,
    )


def _log_to_mlflow(
    settings: Settings,
    best: Trial,
    trials: list[Trial],
    metrics: dict[str, float],
    lineage: dict[str, Any],
    split: Any,
    holdout_proba: Any,
    reference: ReferenceProfile,
    card: dict[str, Any],
) -> tuple[str, str]:
    import catboost
    import mlflow
    from mlflow.models import infer_signature

    mlflow_io.client(settings)
    example = to_model_frame(split.train.head(3))
    with mlflow.start_run(
        experiment_id=mlflow_io.experiment_id(settings),
        run_name=f"train-{lineage['base_date']}",
        tags={f"lineage.{k}": str(v) for k, v in lineage.items()},
    ) as run:
        mlflow.log_params({k: v for k, v in best.params.items() if k != "verbose"})
        mlflow.log_params({f"lineage.{k}": v for k, v in lineage.items()})
        mlflow.log_param("best_iteration", best.best_iteration)
        mlflow.log_metrics(metrics)
        mlflow.log_metrics(
            {f"class_share_{k.lower()}": v for k, v in class_shares(split.holdout).items()}
        )
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            confusion_matrix_plot(
                split.holdout[schema.LABEL], holdout_proba, out / "confusion_matrix.png"
            )
            feature_importances(best.model).to_csv(out / "feature_importances.csv", index=False)
            (out / "trials.json").write_text(
                json.dumps(
                    [
                        {
                            "params": {k: t.params[k] for k in ("depth", "l2_leaf_reg")},
                            "valid_macro_f1": t.valid_macro_f1,
                            "best_iteration": t.best_iteration,
                        }
                        for t in trials
                    ],
                    indent=2,
                )
            )
            mlflow.log_artifacts(tmp, artifact_path="evaluation")
        mlflow.log_dict(reference.model_dump(mode="json"), ARTIFACT_PATH)
        info = mlflow.catboost.log_model(
            best.model,
            name="model",
            signature=infer_signature(example, predict_proba(best.model, example)),
            input_example=example,
            pip_requirements=[f"catboost=={catboost.__version__}"],
        )
        version = mlflow_io.register_version(
            settings, info.model_uri, run.info.run_id, str(info.model_id)
        )
        mlflow.log_dict(card, CARD_JSON)
        tags = {f"lineage.{k}": str(v) for k, v in lineage.items()}
        card_md = render_card(settings.store.model_name, version, tags, card, [])
        mlflow.log_text(card_md, CARD_MD)
    mlflow_io.set_version_tags(settings, version, {f"lineage.{k}": v for k, v in lineage.items()})
    return run.info.run_id, version
