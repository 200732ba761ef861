"""The demo's report: one short line per day, and a story drawn from the days themselves."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from rich.text import Text

from advanced_mlops.cli.demo import (
    Comparison,
    Day,
    Timeline,
    closing_lines,
    day_line,
    recovery,
    shadow_lines,
    story_lines,
)
from advanced_mlops.monitoring.aggregate import DayCounts
from advanced_mlops.monitoring.decision import Decision
from advanced_mlops.monitoring.performance import LivePerformance
from advanced_mlops.monitoring.result import MonitoringResult
from advanced_mlops.monitoring.shadow import Action, ShadowVerdict
from advanced_mlops.registry.comparison import Comparison as Paired

TIMELINE = Timeline(history_days=60, stable_days=4, covariate_days=5, concept_days=6)


def test_the_timeline_layers_the_drifts() -> None:
    scenario = TIMELINE.scenario()
    assert scenario.label(TIMELINE.covariate_start - timedelta(days=1)) == "stable"
    assert scenario.label(TIMELINE.covariate_start) == "covariate_drift"
    assert scenario.label(TIMELINE.concept_start) == "concept_drift+covariate_drift"
    assert (TIMELINE.last_day - TIMELINE.first_monitored).days + 1 == 15


def test_a_day_fits_in_eighty_columns_and_names_the_drift() -> None:
    decision = Decision(
        "retrain", ["drift on 4 of 8"], {"drift": "alarm"}, True,
        ["delay_from_due_date", "num_credit_inquiries", "outstanding_debt"],
    )  # fmt: skip
    result = MonitoringResult(
        day=date(2025, 3, 13), model_version="12", rows_by_version={"12": 96},
        counts=DayCounts(rows=96), drift=[], prediction_drift=None, quality=[],
        performance=LivePerformance(date(2025, 3, 4), date(2025, 3, 6), 309, 0.6912),
        decision=decision,
    )  # fmt: skip
    line = Text.from_markup(day_line(result, "concept_drift+covariate_drift")).plain
    assert len(line) <= 80
    assert line.startswith("2025-03-13 cov+concept v12")
    assert "0.691" in line
    assert line.endswith("retrain       delay_from_due_date +2")


def day(
    offset: int, status: str, champion: str, f1: float | None = None, action: str = "",
    alarms: tuple[str, ...] = (), judged: int | None = None,
) -> Day:  # fmt: skip
    when = TIMELINE.first_monitored + timedelta(days=offset)
    until = None if judged is None else TIMELINE.first_monitored + timedelta(days=judged)
    return Day(when, "x", status, champion, f1, action, alarms, until)


def test_the_story_counts_triggers_per_phase_and_compares_models() -> None:
    days = [
        day(0, "insufficient_data", "1"), day(1, "ok", "1", 0.70), day(2, "ok", "1", 0.68),
        day(3, "ok", "1", 0.69), day(4, "ok", "1"),
        day(5, "retrain", "1", action="drift: v2 promoted", alarms=("drift",)),
        day(6, "cooldown", "2", alarms=("drift",)), *(day(i, "ok", "2") for i in range(7, 12)),
        # The first performance alarm judges days before the concept drift: not its alarm.
        day(12, "retrain", "2", 0.5, "performance: v3 refused", ("performance",), judged=5),
        day(14, "cooldown", "2", 0.5, alarms=("performance",), judged=10),
    ]  # fmt: skip
    comparison = Comparison("1", "2", date(2025, 3, 10), date(2025, 3, 12), 300,
                            {"1": 0.61, "2": 0.69})  # fmt: skip
    lines = story_lines(days, TIMELINE, 7, {"covariate drift": comparison})
    assert lines == [
        "4 stable days: 0 retraining triggers; live macro-F1 0.690 on average",
        f"covariate drift from {TIMELINE.covariate_start}: detected on {days[5].day} (day 2)",
        f"  retrained: {days[5].day} drift: v2 promoted",
        "  on 300 labelled predictions of 2025-03-10..2025-03-12, unseen in training: "
        "v1 0.610 -> v2 0.690 macro-F1",
        f"concept drift from {TIMELINE.concept_start}, first labels on "
        f"{TIMELINE.concept_start + timedelta(days=7)}: first live-performance alarm on its "
        f"predictions on {days[13].day}",
        f"  retrained: {days[12].day} performance: v3 refused",
    ]


def test_the_demo_ends_with_its_time_the_newest_report_and_the_mlflow_command() -> None:
    reports = [
        Path("/d/monitoring/2025-03-13/report.html"),
        Path("/d/monitoring/2025-04-24/report.html"),
    ]
    lines = closing_lines(97.4, reports, "sqlite:////d/mlflow.db")
    assert lines[0].startswith("finished in 97 s. 2 HTML reports")
    assert lines[0].endswith("newest HTML report: /d/monitoring/2025-04-24/report.html")
    assert lines[-1] == "  uv run mlflow ui --backend-store-uri sqlite:////d/mlflow.db"
    assert "no day triggered a retraining" in closing_lines(5.0, [], "sqlite:///x")[0]


def verdict(
    offset: int, challenger: str, action: Action, rows: int, f1: tuple[float, float]
) -> Day:
    first = TIMELINE.first_monitored
    when = first + timedelta(days=offset)
    paired = Paired(f1[1] - f1[0], f1[1] - f1[0] - 0.03, f1[1] - f1[0] + 0.03, 0.95, 0.025, rows)
    found = ShadowVerdict(when, challenger, "1", first, offset + 1, rows, f1[0], f1[1], paired,
                          action, "")  # fmt: skip
    return Day(when, "x", "ok", "1", None, "", shadow=found)


def test_the_summary_tells_each_challengers_time_in_shadow_and_its_figures() -> None:
    days = [
        verdict(3, "2", "wait", 120, (0.60, 0.61)), verdict(9, "2", "wait", 320, (0.60, 0.61)),
        verdict(10, "3", "wait", 0, (0.0, 0.0)), verdict(12, "3", "promote", 311, (0.637, 0.732)),
        verdict(13, "4", "wait", 50, (0.70, 0.69)),
    ]  # fmt: skip
    lines = shadow_lines(days, challenger="4")
    first = TIMELINE.first_monitored
    assert lines[0].startswith("challengers in shadow")
    assert lines[1] == (
        f"  v2: {first}..{days[1].day}, 10 days beside v1, replaced on 320 labelled live rows, "
        "macro-F1 v1 0.600 -> v2 0.610 (difference +0.010, bounds -0.020..+0.040)"
    )
    assert lines[2].startswith(f"  v3: {first}..{days[3].day}, 13 days beside v1, promoted on 311")
    assert "v1 0.637 -> v3 0.732 (difference +0.095, bounds +0.065..+0.125)" in lines[2]
    assert ", still in shadow on 50 labelled live rows" in lines[3]
    assert shadow_lines([day(0, "ok", "1")], None) == []


def test_recovery_compares_the_low_with_the_promoted_models_own_days() -> None:
    phase = [day(0, "ok", "3", 0.60), day(1, "ok", "3", 0.458), day(2, "ok", "3"),
             day(3, "ok", "7"), day(4, "ok", "7", 0.651), day(5, "ok", "7", 0.627)]  # fmt: skip
    assert recovery(phase, "3", "7") == [
        f"  live macro-F1 of the champion: 0.458 at its lowest (v3, {phase[1].day}), 0.639 on "
        "average over the 2 days v7 was judged on its own labels"
    ]
    assert recovery(phase[:4], "3", "7") == []  # the phase ended before v7 was judged


def test_the_recovery_is_told_only_where_live_performance_had_fallen() -> None:
    covariate = [day(4, "ok", "1", 0.66), day(6, "ok", "2", 0.64)]  # drift, no performance alarm
    concept = [day(10, "retrain", "2", 0.45, "performance: v3 shadow", ("performance",), 9),
               day(14, "ok", "3", 0.65)]  # fmt: skip
    found = {
        name: Comparison(before, after, date(2025, 3, 10), date(2025, 3, 12), 300,
                         {before: 0.5, after: 0.6})
        for name, before, after in (("covariate drift", "1", "2"), ("concept drift", "2", "3"))
    }  # fmt: skip
    told = [line for line in story_lines(covariate + concept, TIMELINE, 7, found)
            if "live macro-F1 of the champion" in line]  # fmt: skip
    assert told == [
        f"  live macro-F1 of the champion: 0.450 at its lowest (v2, {concept[0].day}), 0.650 on "
        "average over the 1 day v3 was judged on its own labels"
    ]
