"""The challenger in shadow judged on live outcomes: the same labelled rows, paired.

Offline holdouts are small and a week old by the time a model is gated; the labels that arrive
after the challenger went to shadow judge it in the world as it is now. The rule is the gate's
paired bootstrap (registry/comparison.py, with the gate's margin, resamples and seed) on the rows
both models scored, at `shadow_confidence`: higher than the gate's, since the comparison is looked
at again every day and each look is a chance to be fooled by noise. Promote when the challenger is
better beyond noise (the lower bound of the macro-F1 difference above 0, so also non-inferior),
retire it when worse beyond noise (the upper bound below 0); nothing is decided before
`shadow_min_labelled_rows`. Still undecided after `shadow_max_days` days of shadow traffic, it is
retired: shadow costs CPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

import numpy as np

from advanced_mlops import schema
from advanced_mlops.monitoring.performance import from_confusion
from advanced_mlops.registry.comparison import Comparison, paired_bootstrap
from advanced_mlops.registry.judge import class_indices
from advanced_mlops.settings import GateSettings, MonitoringSettings

Action = Literal["promote", "retire", "wait"]


@dataclass(frozen=True)
class ShadowVerdict:
    day: date  # the monitored day
    challenger: str
    champion: str
    first_day: date | None  # the first day the challenger scored live traffic
    days: int  # days of shadow traffic up to the monitored day, both counted
    rows: int  # labelled rows both models scored
    champion_macro_f1: float | None
    challenger_macro_f1: float | None
    comparison: Comparison | None
    action: Action
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the stored decision and the promotion history."""
        found = asdict(self)
        found["day"] = self.day.isoformat()
        found["first_day"] = self.first_day.isoformat() if self.first_day else None
        return found


def judge_shadow(
    cells: Mapping[tuple[str, str, str], int],
    *,
    champion: str,
    challenger: str,
    first_day: date | None,
    day: date,
    gate: GateSettings,
    rules: MonitoringSettings,
) -> ShadowVerdict:
    """The verdict on `(label, champion's class, challenger's class) -> rows` counts."""
    keys = [k for k, n in cells.items() if n > 0]
    counts = np.asarray([cells[k] for k in keys], dtype=int)
    rows = int(counts.sum())
    days = (day - first_day).days + 1 if first_day else 0
    comparison = champion_f1 = challenger_f1 = None
    if rows:
        truth, theirs, mine = (
            np.repeat(class_indices([k[i] for k in keys]), counts) for i in range(3)
        )
        comparison = paired_bootstrap(
            truth,
            mine,
            theirs,
            margin=gate.margin,
            confidence=rules.shadow_confidence,
            resamples=gate.bootstrap_resamples,
            seed=gate.bootstrap_seed,
            classes=len(schema.CLASSES),
        )
        champion_f1 = _macro_f1(cells, 1, first_day or day, day)
        challenger_f1 = _macro_f1(cells, 2, first_day or day, day)
    action, reason = _rule(comparison, rows, days, rules)
    return ShadowVerdict(
        day, challenger, champion, first_day, days, rows, champion_f1, challenger_f1,
        comparison, action, reason,
    )  # fmt: skip


def _macro_f1(
    cells: Mapping[tuple[str, str, str], int], model: int, first: date, last: date
) -> float | None:
    confusion: dict[tuple[str, str], int] = {}
    for key, n in cells.items():
        pair = (key[0], key[model])
        confusion[pair] = confusion.get(pair, 0) + n
    return from_confusion(confusion, first, last).macro_f1


def _rule(
    comparison: Comparison | None, rows: int, days: int, rules: MonitoringSettings
) -> tuple[Action, str]:
    figures = comparison.reason.split(":")[0] if comparison else f"{rows} labelled rows"
    too_long = days > rules.shadow_max_days
    if comparison is None or rows < rules.shadow_min_labelled_rows:
        if too_long:
            return "retire", (
                f"in shadow {days} days (limit {rules.shadow_max_days}) with {rows} labelled rows, "
                f"fewer than the {rules.shadow_min_labelled_rows} needed"
            )
        return "wait", f"{rows} of {rules.shadow_min_labelled_rows} labelled rows needed"
    if comparison.lower > 0:
        return "promote", f"live {figures} > 0: better than the champion beyond noise"
    upper = f"upper bound {comparison.upper:+.4f}"
    if comparison.upper < 0:
        return "retire", f"live {figures}, {upper} < 0: worse than the champion beyond noise"
    if too_long:
        return "retire", (
            f"in shadow {days} days (limit {rules.shadow_max_days}) and still undecided: "
            f"live {figures}, {upper}"
        )
    return "wait", f"live {figures}, {upper}: not different from the champion beyond noise yet"
