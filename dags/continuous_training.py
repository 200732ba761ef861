"""Continuous training: on every feature-store update (or by hand), train on what is known at the
logical date, gate the challenger, and promote it or keep the champion, saying why."""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from advanced_mlops.orchestration.defaults import CHAMPION_URI, DEFAULT_ARGS, FEATURE_STORE_URI

CHAMPION = Asset(CHAMPION_URI)


@dag(
    schedule=[Asset(FEATURE_STORE_URI)],
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["mlops", "training"],
)
def continuous_training() -> None:
    @task
    def train(ds: str | None = None) -> str:
        from advanced_mlops.orchestration.tasks import train_model

        return train_model(str(ds))

    @task.branch
    def gate(version: str) -> str:
        from advanced_mlops.orchestration.tasks import gate_model

        return "promote" if gate_model(version) else "keep_champion"

    @task(outlets=[CHAMPION])
    def promote(version: str) -> str:
        from advanced_mlops.orchestration.tasks import promote_model

        return promote_model(version)

    @task
    def keep_champion(version: str) -> str | None:
        from advanced_mlops.orchestration.tasks import keep_champion as keep

        return keep(version)

    version = train()
    gate(version) >> [promote(version), keep_champion(version)]


continuous_training()
