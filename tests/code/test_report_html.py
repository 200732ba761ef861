"""The monitoring report's HTML (a Jinja2 template): what a reader needs, and nothing a logged
value could inject."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from advanced_mlops.monitoring.aggregate import DayCounts
from advanced_mlops.monitoring.decision import Decision
from advanced_mlops.monitoring.drift import FeatureDrift
from advanced_mlops.monitoring.performance import LivePerformance
from advanced_mlops.monitoring.quality import FeatureQuality
from advanced_mlops.monitoring.report import _html
from advanced_mlops.monitoring.result import MonitoringResult

HOSTILE = "<script>alert(1)</script>"


def result(**changes: object) -> MonitoringResult:
    values: dict[str, object] = {
        "day": date(2025, 3, 13),
        "model_version": "12",
        "rows_by_version": {"12": 96},
        "counts": DayCounts(rows=96),
        "drift": [
            FeatureDrift("age", "numeric", "psi", 0.05, 0.2, 96, 0.4, 0.01),
            FeatureDrift("credit_mix", "categorical", "cramers_v", 0.3, 0.2, 96, 1e-6, 0.01),
        ],
        "prediction_drift": None,
        "quality": [FeatureQuality("age", 0.125, 0.1, 0.0, 0)],
        "performance": LivePerformance(
            date(2025, 3, 4), date(2025, 3, 6), 309, 0.6912, {"Poor": 0.71}
        ),
        "decision": Decision(
            "retrain", [f"drift on credit_mix {HOSTILE}"], {"drift": "alarm"}, True, []
        ),
    }
    return MonitoringResult(**{**values, **changes})  # type: ignore[arg-type]


def test_the_report_says_the_decision_and_its_figures() -> None:
    page = _html(result(), [Path("drift.png")])
    assert "Monitoring of 2025-03-13" in page
    assert "retrain" in page
    assert "309 labelled predictions made 2025-03-04..2025-03-06: macro-F1\n  0.691" in page
    assert "Poor 0.710" in page
    assert '<img src="drift.png"' in page
    assert "12.5%" in page  # missing rate of age
    # Ranked by how far each feature is toward its threshold: credit_mix (1.5) before age (0.25).
    assert page.index("<td>credit_mix</td>") < page.index("<td>age</td>")
    assert "<b>yes</b>" in page  # credit_mix drifted (beyond its threshold and significant)


def test_logged_text_is_escaped() -> None:
    page = _html(result(), [])
    assert HOSTILE not in page
    assert "&lt;script&gt;" in page


def test_a_day_without_drift_or_labels_still_renders() -> None:
    page = _html(result(drift=[], quality=[], performance=None), [])
    assert "no labelled predictions" in page
    assert "p-value below\nalpha." in page


def test_the_shadow_period_shows_each_days_live_figures() -> None:
    from advanced_mlops.monitoring.shadow import ShadowVerdict
    from advanced_mlops.registry.comparison import Comparison

    def verdict(day: date, rows: int, lower: float, action: str) -> ShadowVerdict:
        comparison = Comparison(0.031, lower, 0.06, 0.95, 0.025, rows)
        return ShadowVerdict(day, "13", "12", date(2025, 3, 1), (day.day - 1) + 1, rows, 0.61,
                             0.64, comparison, action, f"reason {HOSTILE}")  # type: ignore[arg-type]  # fmt: skip

    today = verdict(date(2025, 3, 13), 412, 0.004, "promote")
    earlier = verdict(date(2025, 3, 12), 301, -0.002, "wait")
    past = [{"day": earlier.day, "details": {"shadow": earlier.as_dict()}},
            {"day": date(2025, 3, 11), "details": {"shadow": {**earlier.as_dict(),
                                                               "challenger": "9"}}}]  # fmt: skip
    page = _html(result(shadow=today), [], past)
    assert "Challenger v13 beside champion v12" in page
    assert "<strong>promote</strong>" in page
    assert "<td>2025-03-12</td><td>301</td>" in page
    assert "<td>2025-03-13</td><td>412</td>" in page
    assert "[+0.0040, +0.0600]" in page
    assert "2025-03-11" not in page  # another challenger's shadow period
    assert HOSTILE not in page
    assert "no challenger" in _html(result(), [])


def test_mlops_monitor_shows_the_challengers_verdict() -> None:
    from rich.console import Console

    from advanced_mlops.cli.monitor import result_table
    from advanced_mlops.monitoring.shadow import ShadowVerdict

    verdict = ShadowVerdict(date(2025, 3, 13), "13", "12", date(2025, 3, 1), 13, 40, None, None,
                            None, "wait", "40 of 300 labelled rows needed [x]")  # fmt: skip
    console = Console(record=True, width=200)
    console.print(result_table(result(shadow=verdict)))
    text = console.export_text()
    assert "challenger v13" in text
    assert "40 of 300 labelled rows needed [x]" in text  # escaped, not read as markup
    console.print(result_table(result()))
    assert console.export_text().count("challenger v") == 0
