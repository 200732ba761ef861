"""Operators the DAGs need beyond `@task`. Imported at parse time: Airflow only, nothing heavy."""

from __future__ import annotations

from collections.abc import Sequence

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator


class TriggerWithNote(TriggerDagRunOperator):
    """Airflow's trigger with a templated `note`, so the triggered run says why it exists."""

    template_fields: Sequence[str] = (*TriggerDagRunOperator.template_fields, "note")
