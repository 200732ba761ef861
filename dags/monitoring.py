"""Monitoring: once a day is over, judge its predictions (drift, data quality, live performance
once labels have arrived) and, when the retraining rule fires, trigger `continuous_training`
with the rule's reasons as the run's note."""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from advanced_mlops.orchestration.defaults import daily_dag_args
from advanced_mlops.orchestration.operators import TriggerWithNote


@dag(**daily_dag_args(), tags=["mlops", "monitoring"])  # the run for day D judges D
def monitoring() -> None:
    @task
    def monitor(ds: str | None = None) -> dict[str, Any]:
        from advanced_mlops.orchestration.tasks import monitor as monitor_day

        return monitor_day(ds)

    @task.branch
    def decide(result: dict[str, Any]) -> str:
        from advanced_mlops.orchestration.tasks import choose_retraining

        return choose_retraining(result)

    # One training run per monitored day at most: a re-run of the day finds it and skips.
    retrain = TriggerWithNote(
        task_id="retrain",
        trigger_dag_id="continuous_training",
        trigger_run_id="monitoring__{{ ds }}",
        logical_date="{{ logical_date }}",
        note="{{ ti.xcom_pull(task_ids='monitor')['note'] }}",
        skip_when_already_exists=True,
    )

    @task
    def no_retrain(result: dict[str, Any]) -> str:
        return str(result["status"])

    result = monitor()
    decide(result) >> [retrain, no_retrain(result)]


monitoring()
