"""What monitoring one day finds: the result `monitor_day` returns and the report shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from advanced_mlops.monitoring.aggregate import DayCounts
from advanced_mlops.monitoring.decision import Decision
from advanced_mlops.monitoring.drift import FeatureDrift
from advanced_mlops.monitoring.performance import LivePerformance
from advanced_mlops.monitoring.quality import FeatureQuality
from advanced_mlops.monitoring.shadow import ShadowVerdict
from advanced_mlops.training.reference import ReferenceProfile


@dataclass(frozen=True)
class MonitoringResult:
    day: date
    model_version: str | None  # the champion monitored
    rows_by_version: dict[str, int]  # every log row of the day, known versions or not
    counts: DayCounts  # the rows monitored (written by registered versions)
    drift: list[FeatureDrift]
    prediction_drift: FeatureDrift | None
    quality: list[FeatureQuality]
    performance: LivePerformance | None
    decision: Decision
    reference: ReferenceProfile | None = None
    shadow: ShadowVerdict | None = None  # the challenger on live labels, when there is one
    report_path: Path | None = None
    run_id: str | None = None
    report_problem: str | None = None  # why the report or its MLflow run is missing

    @property
    def rows(self) -> int:
        return self.counts.rows

    @property
    def drift_judged(self) -> bool:
        """Whether the rule judged drift today (not on a day too small or with broken data):
        only then does a feature's `drifted` say anything."""
        return self.decision.checks.get("drift") in ("ok", "alarm")
