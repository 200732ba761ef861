"""How often the gate errs, on the default holdout size: the paired rule against today's rule.

    uv run python bench/gate_bench.py [--customers 3000] [--trials 300] [--holdout-days 7]

Models are fitted once on the same time split (the recipe of `mlops train` with its best point,
depth 6 and L2 3): the champion, the same recipe with other seeds (equal models: they should
pass), and worse ones (fitted on 25 % or 40 % shuffled labels, without the 3 or 5 most important
features, or on a tenth of the training rows: they should be refused). All of them predict once
on a pool of 8 later weeks that none was fitted on. Each trial draws a holdout of the default
size (the rows of the newest 7 label days at the default population; `--holdout-days` as
MLOPS_HOLDOUT_DAYS would) from that pool and judges each challenger against the champion on it
with
  - the paired rule (`registry.comparison`: bootstrap lower bound at MLOPS_GATE_CONFIDENCE
    against -MLOPS_GATE_MARGIN), with the settings' values and a grid around them;
  - the point-estimate rule it replaces: challenger macro-F1 >= champion's - 0.01.
Targets: equal models pass >= 95 % of trials, models worse by >= 0.03 macro-F1 (on the whole
pool) are refused >= 95 % of trials.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from advanced_mlops import schema
from advanced_mlops.data.cleaning import clean_batch
from advanced_mlops.data.generator import Generator
from advanced_mlops.data.labels import arriving_labels
from advanced_mlops.inference import predict_proba, to_model_frame
from advanced_mlops.registry.comparison import bootstrap_differences, judged
from advanced_mlops.registry.judge import class_indices
from advanced_mlops.settings import GateSettings, TrainingSettings
from advanced_mlops.training.metrics import classification_metrics
from advanced_mlops.training.model import feature_importances, fit
from advanced_mlops.training.snapshot import point_in_time_join
from advanced_mlops.training.split import newest_window, time_split

POINT_TOLERANCE = 0.01  # today's rule: MLOPS_GATE_MAX_F1_DROP
PARAMS = {"depth": 6, "l2_leaf_reg": 3.0}
POOL_WEEKS = 8
GRID_MARGINS = [0.01, 0.015, 0.02, 0.025]
GRID_CONFIDENCES = [0.5, 0.8, 0.9, 0.95]


def labelled_rows(customers: int, days: int) -> pd.DataFrame:
    """Every labelled row of `days` generated days, as a point-in-time snapshot has them."""
    generator = Generator(customers=customers)
    start = date(2025, 1, 1)
    raws = [generator.batch(start + timedelta(days=i)) for i in range(days)]
    features = pd.concat([clean_batch(r) for r in raws], ignore_index=True)
    labels = pd.concat([arriving_labels(r, date(2026, 12, 31)) for r in raws], ignore_index=True)
    return point_in_time_join(features, labels)


def without(rows: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """`rows` with `features` missing, as the model's input preparation sees a missing value."""
    return rows.assign(**dict.fromkeys(features, np.nan))


def shuffled(rows: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    picked = rng.random(len(rows)) < share
    labels = rows[schema.LABEL].to_numpy().copy()
    labels[picked] = rng.permutation(labels[picked])
    return rows.assign(**{schema.LABEL: labels})


def macro_f1(labels: np.ndarray, predicted: np.ndarray) -> float:
    proba = np.eye(len(schema.CLASSES))[predicted]
    truth = [schema.CLASSES[i] for i in labels]
    return classification_metrics(truth, proba)["macro_f1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--train-days", type=int, default=90)
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--holdout-days", type=int, default=TrainingSettings().holdout_days)
    args = parser.parse_args()
    gate = GateSettings()
    started = time.perf_counter()

    rows = labelled_rows(args.customers, args.train_days + POOL_WEEKS * 7)
    cut = pd.Timestamp(date(2025, 1, 1) + timedelta(days=args.train_days))
    known = rows[pd.to_datetime(rows["label_date"]) < cut]
    pool = rows[pd.to_datetime(rows["label_date"]) >= cut].reset_index(drop=True)
    split = time_split(known, valid_days=7, holdout_days=7)
    holdout_size = int(newest_window(known, args.holdout_days).sum())
    print(
        f"train {len(split.train)}, valid {len(split.valid)} rows; holdout "
        f"(newest {args.holdout_days} label days, {args.customers} customers): {holdout_size} "
        f"rows; pool of "
        f"{POOL_WEEKS} later weeks: {len(pool)} rows"
    )

    def fitted(train: pd.DataFrame, seed: int, blank: list[str] | None = None) -> np.ndarray:
        config = TrainingSettings(seed=seed, threads=args.threads)
        valid = without(split.valid, blank) if blank else split.valid
        model = fit(without(train, blank) if blank else train, valid, PARAMS, config).model
        return np.asarray(predict_proba(model, to_model_frame(without(pool, blank or []))))

    champion_seed = 42
    champion_model = fit(split.train, split.valid, PARAMS, TrainingSettings(seed=champion_seed))
    # Text features stay: CatBoost cannot fit a text column with no value at all.
    ranked = [
        f
        for f in feature_importances(champion_model.model)["feature"]
        if f not in schema.TEXT_FEATURES
    ]
    predictions: dict[str, tuple[str, np.ndarray]] = {
        "champion": ("-", predict_proba(champion_model.model, to_model_frame(pool)).argmax(1))
    }
    for seed in (7, 11, 23):
        predictions[f"same recipe, seed {seed}"] = ("equal", fitted(split.train, seed).argmax(1))
    for share in (0.25, 0.4):
        predictions[f"{share:.0%} shuffled labels"] = (
            "worse",
            fitted(shuffled(split.train, share, 1), champion_seed).argmax(1),
        )
    for count in (3, 5):
        predictions[f"without the top {count} features"] = (
            "worse",
            fitted(split.train, champion_seed, blank=ranked[:count]).argmax(1),
        )
    predictions["on a tenth of the training rows"] = (
        "worse",
        fitted(split.train.sample(frac=0.1, random_state=1), champion_seed).argmax(1),
    )
    fit_s = time.perf_counter() - started

    truth = class_indices(pool[schema.LABEL].tolist())
    champion = predictions.pop("champion")[1]
    rng = np.random.default_rng(0)
    draws = [rng.choice(len(pool), holdout_size, replace=False) for _ in range(args.trials)]
    print(f"models fitted in {fit_s:.0f} s; {args.trials} holdouts of {holdout_size} rows each")
    print(
        f"\nrule: paired bootstrap ({gate.bootstrap_resamples} resamples), pass when the "
        f"{gate.confidence:.0%} lower bound >= -{gate.margin}; today: point estimate >= "
        f"champion - {POINT_TOLERANCE}"
    )
    header = f"{'challenger':34} {'kind':6} {'pool diff':>9} {'paired rule':>12} {'today':>7}"
    print(header + "   (share of trials each rule gave the right answer)")
    grid: dict[tuple[str, float, float], list[bool]] = {}
    started = time.perf_counter()
    for name, (recipe, predicted) in predictions.items():
        true_difference = macro_f1(truth, predicted) - macro_f1(truth, champion)
        # What a model is, is what it measures on the whole pool, not what its recipe meant:
        # CatBoost shrugs off symmetric label noise (25 % shuffled labels cost it nothing).
        kind = "worse" if true_difference <= -0.03 else "equal"
        if recipe == "worse" and kind == "equal" and true_difference < -0.005:
            print(f"{name[:34]:34} between (pool diff {true_difference:+.4f}): not scored")
            continue
        paired_right = today_right = 0
        for i, rows_of in enumerate(draws):
            observed, replicates = bootstrap_differences(
                truth[rows_of], predicted[rows_of], champion[rows_of],
                resamples=gate.bootstrap_resamples, seed=gate.bootstrap_seed + i,
            )  # fmt: skip
            should_pass = kind == "equal"
            for margin in GRID_MARGINS:
                for confidence in GRID_CONFIDENCES:
                    verdict = judged(
                        observed, replicates, holdout_size, margin=margin, confidence=confidence
                    )
                    grid.setdefault((kind, margin, confidence), []).append(
                        verdict.passed == should_pass
                    )
            ours = judged(
                observed, replicates, holdout_size, margin=gate.margin, confidence=gate.confidence
            )
            paired_right += ours.passed == should_pass
            today_right += (observed >= -POINT_TOLERANCE) == should_pass
        print(
            f"{name[:34]:34} {kind:6} {true_difference:+9.4f} "
            f"{paired_right / len(draws):12.1%} {today_right / len(draws):7.1%}"
        )
    print(f"(judged in {time.perf_counter() - started:.0f} s)")

    print("\nthe worst right-answer rate per kind over the grid (margin x confidence):")
    print(f"{'margin':>7} {'confidence':>10} {'equal pass':>11} {'worse refused':>14}")
    for margin in GRID_MARGINS:
        for confidence in GRID_CONFIDENCES:
            rates: dict[str, Any] = {}
            for kind in ("equal", "worse"):
                outcomes = grid[(kind, margin, confidence)]
                rates[kind] = min(
                    np.mean(outcomes[k * len(draws) : (k + 1) * len(draws)])
                    for k in range(len(outcomes) // len(draws))
                )
            mark = " <- settings" if (margin, confidence) == (gate.margin, gate.confidence) else ""
            print(
                f"{margin:7.3f} {confidence:10.2f} {rates['equal']:11.1%} "
                f"{rates['worse']:14.1%}{mark}"
            )


if __name__ == "__main__":
    main()
