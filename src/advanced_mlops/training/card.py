"""The model card of a registered version: what it is for, what it learnt from, how well it does
(with the holdout's noise stated), where it does worse, what the gate said, and its limits.

`card_figures` runs at training (its result is the run's `model_card.json` artifact, and the card
as of training is `model_card.md`); `render_card` is pure and also serves `mlops card`, which adds
the gate verdicts the version received since.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from advanced_mlops import schema
from advanced_mlops.training.bootstrap import macro_f1_interval
from advanced_mlops.training.metrics import classification_metrics

ARTIFACT_JSON = "model_card.json"
ARTIFACT_MD = "model_card.md"
SLICES = ("occupation", "credit_mix")
MIN_SLICE_ROWS = 20
CONFIDENCE = 0.95

INTENDED_USE = (
    "Classifies a customer's credit score as Poor, Standard or Good from the features of the "
    "feature store, to rank and route applications for a person's review. It is a reference "
    "system trained on simulated data: not a basis for automated credit decisions."
)
LIMITS = [
    "Trained and judged on the simulator's data: figures say nothing of real customers.",
    "The holdout is the newest MLOPS_HOLDOUT_DAYS label days: the interval above is its sampling "
    "noise, not the spread across periods; drift (see monitoring) moves the live figures.",
    "Labels arrive late (MLOPS_LABEL_DELAY_DAYS): live performance is known only after them.",
    "Slices with fewer than {min_rows} holdout rows are not scored.",
]


def card_figures(holdout: pd.DataFrame, proba: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """Holdout figures with a bootstrap interval on macro-F1, and per-slice figures."""
    labels = holdout[schema.LABEL].tolist()
    metrics = classification_metrics(labels, proba)
    truth = np.asarray([schema.CLASSES.index(y) for y in labels])
    predicted = proba.argmax(axis=1)
    low, high = macro_f1_interval(
        truth, predicted, resamples=1000, seed=seed, confidence=CONFIDENCE
    )
    slices: dict[str, list[dict[str, Any]]] = {}
    for column in SLICES:
        values = holdout[column].fillna("missing").astype(str).to_numpy()
        rows = []
        for value in sorted(set(values)):
            inside = values == value
            figure: dict[str, Any] = {"value": value, "rows": int(inside.sum())}
            if inside.sum() >= MIN_SLICE_ROWS:
                part = classification_metrics(
                    [y for y, keep in zip(labels, inside, strict=True) if keep], proba[inside]
                )
                figure |= {"macro_f1": part["macro_f1"], "accuracy": part["accuracy"]}
            rows.append(figure)
        slices[column] = rows
    return {
        "rows": len(labels),
        "metrics": metrics,
        "macro_f1_interval": [low, high],
        "confidence": CONFIDENCE,
        "slices": slices,
    }


def _f(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("-" if value is None else str(value))


def render_card(
    model_name: str,
    version: str,
    lineage: Mapping[str, str],
    figures: Mapping[str, Any],
    verdicts: Sequence[Mapping[str, Any]],
) -> str:
    """The card as markdown. `verdicts`: the version's gate events (history rows)."""
    metrics = figures["metrics"]
    low, high = figures["macro_f1_interval"]

    def tag(name: str) -> str:
        return lineage.get(f"lineage.{name}", "-")

    lines = [
        f"# Model card: {model_name} v{version}",
        "",
        "## Intended use",
        "",
        INTENDED_USE,
        "",
        "## Training data",
        "",
        f"- base date: {tag('base_date')}; labels {tag('label_from')[:10]} .. "
        f"{tag('train_label_to')[:10]} (fitted and early-stopped on)",
        f"- data hash: `{tag('data_hash')}`; scenario: {tag('scenario')}",
        f"- rows: train {tag('rows_train')}, valid {tag('rows_valid')}, holdout "
        f"{tag('rows_holdout')}",
        "",
        f"## Holdout figures ({figures['rows']} rows, the newest label days)",
        "",
        f"- macro-F1 **{metrics['macro_f1']:.4f}**, {figures['confidence']:.0%} bootstrap "
        f"interval [{low:.4f}, {high:.4f}]",
        f"- accuracy {metrics['accuracy']:.4f}, log-loss {metrics['log_loss']:.4f}, expected "
        f"calibration error {_f(metrics.get('ece'))}",
        "",
        "| class | precision | recall |",
        "|---|---|---|",
        *(
            f"| {name} | {_f(metrics[f'precision_{name.lower()}'])} | "
            f"{_f(metrics[f'recall_{name.lower()}'])} |"
            for name in schema.CLASSES
        ),
        "",
        "## Slices",
        "",
    ]
    for column, rows in figures["slices"].items():
        lines += [f"| {column} | rows | macro-F1 | accuracy |", "|---|---|---|---|"]
        lines += [
            f"| {row['value']} | {row['rows']} | {_f(row.get('macro_f1'))} | "
            f"{_f(row.get('accuracy'))} |"
            for row in rows
        ]
        lines.append("")
    lines += ["## Gate verdicts", ""]
    if not verdicts:
        lines.append("None yet: run `mlops gate --version " + version + "`.")
    for event in verdicts:
        against = (
            f"champion v{event['from_version']}" if event.get("from_version") else "no champion"
        )
        state = "passed" if event.get("passed") else "refused"
        lines.append(
            f"- {event.get('at', '')}: {state} against {against}: {event.get('reason', '')}"
        )
    lines += ["", "## Known limits", ""]
    lines += [f"- {limit.format(min_rows=MIN_SLICE_ROWS)}" for limit in LIMITS]
    return "\n".join(lines) + "\n"
