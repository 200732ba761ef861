"""Continuous training: on every feature-store update (or by hand, or from monitoring), snapshot
what is known at the logical date, train, gate the challenger, and promote it or keep the
champion, saying why."""

from __future__ import annotations

from typing import Any

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
    def base_date(ds: str | None = None, triggering_asset_events: Any = None) -> str:
        from advanced_mlops.orchestration.tasks import resolve_base_date

        return resolve_base_date(ds, triggering_asset_events)

    @task
    def snapshot(day: str) -> str:
        from advanced_mlops.orchestration.tasks import build_snapshot

        build_snapshot(day)
        return day

    @task
    def train(day: str) -> str:
        from advanced_mlops.orchestration.tasks import train_model

        return train_model(day)

    @task
    def gate(version: str, day: str) -> dict[str, Any]:
        from advanced_mlops.orchestration.tasks import gate_model

        return gate_model(version, day)

    @task.branch
    def decide(verdict: dict[str, Any]) -> str:
        from advanced_mlops.orchestration.tasks import choose_branch

        return choose_branch(verdict)

    @task(outlets=[CHAMPION])
    def promote(verdict: dict[str, Any]) -> str:
        from advanced_mlops.orchestration.tasks import promote_model

        return promote_model(verdict["version"], verdict.get("day"))

    @task
    def keep_champion(verdict: dict[str, Any]) -> str:
        from advanced_mlops.orchestration.tasks import keep_champion as keep

        return keep(verdict["version"], verdict["verdict"])

    day = snapshot(base_date())
    verdict = gate(train(day), day)
    decide(verdict) >> [promote(verdict), keep_champion(verdict)]


continuous_training()
