"""CatBoost fitting and a small, early-stopped search over the settings that matter.

Why this is faster than the course's recipe at equal quality: shallower trees (depth 7-9 cost
several times more per iteration), MultiClass instead of one-vs-all, a moderate learning rate with
early stopping, and a 4-point search instead of 27 fits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np
import pandas as pd
from catboost import CatBoostClassifier, Pool

from advanced_mlops import schema
from advanced_mlops.inference import predict_proba, to_model_frame
from advanced_mlops.settings import TrainingSettings
from advanced_mlops.training.metrics import classification_metrics

BASE_PARAMS: dict[str, Any] = {
    "loss_function": "MultiClass",
    "learning_rate": 0.15,
    "auto_class_weights": "SqrtBalanced",
    "one_hot_max_size": 4,
}


@dataclass(frozen=True)
class Trial:
    params: dict[str, Any]
    valid_macro_f1: float
    best_iteration: int
    model: CatBoostClassifier


def recency_weights(label_dates: pd.Series, half_life_days: float) -> np.ndarray | None:
    """Weights halving every `half_life_days` back from the newest label: recent rows count more,
    so a retrained model follows a changed world without throwing away the older data. 0 weighs
    every row alike."""
    if not half_life_days:
        return None
    dates = pd.to_datetime(label_dates)
    age = (dates.max() - dates).dt.days.to_numpy(dtype=float)
    return np.power(0.5, age / half_life_days)


def pool(rows: pd.DataFrame, weight: np.ndarray | None = None) -> Pool:
    return Pool(
        to_model_frame(rows),
        label=rows[schema.LABEL].to_numpy(),
        weight=weight,
        cat_features=list(schema.CATEGORICAL_FEATURES),
        text_features=list(schema.TEXT_FEATURES),
    )


def fit(
    train: pd.DataFrame, valid: pd.DataFrame, params: dict[str, Any], config: TrainingSettings
) -> Trial:
    """One CatBoost fit, early-stopped on `valid`."""
    all_params = {
        **BASE_PARAMS,
        **params,
        "iterations": config.max_iterations,
        "early_stopping_rounds": config.early_stopping_rounds,
        "random_seed": config.seed,
        "thread_count": config.threads,
        "allow_writing_files": False,
        "verbose": False,
    }
    model = CatBoostClassifier(**all_params)
    weight = recency_weights(train["label_date"], config.recency_half_life_days)
    model.fit(pool(train, weight), eval_set=pool(valid), use_best_model=True)
    proba = predict_proba(model, to_model_frame(valid))
    f1 = classification_metrics(valid[schema.LABEL], proba)["macro_f1"]
    return Trial(
        params=all_params, valid_macro_f1=f1, best_iteration=model.best_iteration_, model=model
    )


def search_space(config: TrainingSettings) -> dict[str, list[Any]]:
    """The points `tune` tries: every depth with every L2 regularisation of the settings."""
    return {"depth": config.search_depths, "l2_leaf_reg": config.search_l2_leaf_regs}


def grid(space: dict[str, list[Any]]) -> Iterable[dict[str, Any]]:
    keys = list(space)
    for values in product(*(space[k] for k in keys)):
        yield dict(zip(keys, values, strict=True))


def tune(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    config: TrainingSettings,
    space: dict[str, list[Any]] | None = None,
    on_trial: Callable[[Trial], None] = lambda _: None,
) -> tuple[Trial, list[Trial]]:
    """Fit every point of the space; the best validation macro-F1 wins (first one on ties)."""
    trials = []
    for params in grid(space or search_space(config)):
        trial = fit(train, valid, params, config)
        on_trial(trial)
        trials.append(trial)
    best = max(trials, key=lambda t: t.valid_macro_f1)
    return best, trials


def feature_importances(model: CatBoostClassifier) -> pd.DataFrame:
    return (
        pd.DataFrame(
            {"feature": model.feature_names_, "importance": model.get_feature_importance()}
        )
        .sort_values("importance", ascending=False)
        .reset_index(drop=True)
    )
