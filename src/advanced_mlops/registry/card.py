"""`mlops card`: a version's model card, with every gate verdict it received so far."""

from __future__ import annotations

from advanced_mlops import mlflow_io
from advanced_mlops.errors import MlopsError
from advanced_mlops.settings import Settings
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, require_current_schema
from advanced_mlops.training.card import ARTIFACT_JSON, render_card


def model_card(settings: Settings, version: str) -> str:
    """The card of `version` (markdown): its training figures, as logged, and its verdicts."""
    entry = mlflow_io.model_version(settings, version)
    figures = mlflow_io.version_json_artifact(settings, version, ARTIFACT_JSON)
    if figures is None:
        raise MlopsError(
            f"--version {version}: no {ARTIFACT_JSON} (trained before model cards, or registered "
            "around `mlops train`)"
        )
    require_current_schema(settings.store.url)
    with connect(settings.store.url) as conn:
        events = repository.read_history(conn, settings.store.model_name)
    verdicts = [e for e in events if e["event"] == "gate" and str(e["version"]) == version]
    lineage = {k: str(v) for k, v in entry.tags.items() if k.startswith("lineage.")}
    return render_card(settings.store.model_name, version, lineage, figures, verdicts)
