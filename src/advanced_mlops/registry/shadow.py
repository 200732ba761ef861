"""`mlops shadow`: the `challenger` alias, a version scored beside the champion on live traffic.

A holdout is small and a week old by the time a model is gated; a challenger in shadow is judged
on the labels that arrive later instead (monitoring/shadow.py). It never answers a request, but it
must be able to score every record the champion scores, so its features and signature must be the
champion's. Every move of the alias is recorded in the promotion history, like the champion's.
"""

from __future__ import annotations

import json
from typing import Any

from advanced_mlops import mlflow_io
from advanced_mlops.errors import MlopsError
from advanced_mlops.registry.promotion import promote
from advanced_mlops.settings import Settings
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, require_current_schema

SHADOW = "shadow"
RETIRE = "retire"


def floors_problem(tags: dict[str, str], version: str) -> str | None:
    """Why `version` may not go to shadow without --force, or None. A version refused only on
    the comparison with the champion may: live outcomes are what shadow is there to judge."""
    if "gate.passed" not in tags:
        return f"--version {version}: has not been through the gate; run `mlops gate` first"
    floors = tags.get("gate.floors_passed", tags["gate.passed"])
    if floors != "true":
        return f"--version {version}: failed a floor of the gate (see `mlops history`)"
    return None


def _features(settings: Settings, version: str) -> list[str]:
    return list(mlflow_io.load_model(settings, version).feature_names_)


def compatibility_problem(settings: Settings, version: str, champion: str) -> str | None:
    """Why `version` cannot score the records the champion scores, or None."""
    mine, theirs = _features(settings, version), _features(settings, champion)
    if mine != theirs:
        missing = sorted(set(theirs) - set(mine))
        extra = sorted(set(mine) - set(theirs))
        detail = f"missing {missing}, extra {extra}" if missing or extra else "in another order"
        return f"--version {version}: its features differ from champion v{champion}'s ({detail})"
    mine_sig, theirs_sig = (columns(mlflow_io.signature(settings, v)) for v in (version, champion))
    if mine_sig != theirs_sig:
        return f"--version {version}: its model signature differs from champion v{champion}'s"
    return None


def columns(signature: dict[str, Any] | None) -> dict[str, list[tuple[str, str]]] | None:
    """A signature's inputs and outputs as (name, type): what a record must hold. MLflow also
    marks a column `required` when the training sample had no missing value in it, which
    depends on the data, not the model: two fits on different days differ there."""
    if signature is None:
        return None
    return {
        part: [(str(c.get("name")), str(c.get("type"))) for c in _parsed(raw)]
        for part, raw in signature.items()
        if part in ("inputs", "outputs")
    }


def shadow(settings: Settings, version: str, force: bool = False, reason: str = "") -> str | None:
    """Point alias `challenger` at `version`; returns the challenger it replaced."""
    entry = mlflow_io.model_version(settings, version)
    champion = mlflow_io.alias_version(settings, mlflow_io.CHAMPION)
    if champion is None:
        raise MlopsError("no champion: a challenger is judged against one; promote one first")
    if champion == version:
        raise MlopsError(f"--version {version}: already the champion")
    current = mlflow_io.alias_version(settings, mlflow_io.CHALLENGER)
    if current == version:
        raise MlopsError(f"--version {version}: already the challenger")
    tags = {str(k): str(v) for k, v in entry.tags.items()}
    floors = floors_problem(tags, version)
    if floors and not force:
        raise MlopsError(f"{floors}, or shadow it with --force")
    if problem := compatibility_problem(settings, version, champion):
        raise MlopsError(problem)
    _move(
        settings,
        {
            "event": SHADOW,
            "version": version,
            "from_version": current,
            "passed": tags.get("gate.passed") == "true",
            "forced": floors is not None,
            "reason": reason or f"shadow beside champion v{champion}",
            "details": {"champion": champion},
        },
        version,
    )
    return current


def shadow_by_policy(settings: Settings, version: str, reason: str) -> str | None:
    """The training policy's step after the gate, for the training DAG and `mlops demo` alike:
    under MLOPS_TRAINING_POLICY=shadow, a gated `version` whose floors all passed (promoted or
    refused only on the comparison with the champion) goes to shadow, and the line says so.
    None under `promote`, when a floor failed, or with no other champion yet: the caller
    promotes or keeps the champion."""
    if settings.gate.training_policy != "shadow":
        return None
    if mlflow_io.alias_version(settings, mlflow_io.CHAMPION) in (None, version):
        return None  # no champion to shadow beside: the first model is promoted
    entry = mlflow_io.model_version(settings, version)
    if floors_problem({str(k): str(v) for k, v in entry.tags.items()}, version) is not None:
        return None
    replaced = shadow(settings, version, reason=reason)
    return f"challenger v{version} in shadow" + (f" (replaced v{replaced})" if replaced else "")


def _parsed(raw: Any) -> list[dict[str, Any]]:
    return list(json.loads(raw) if isinstance(raw, str) else raw or [])


def clear(
    settings: Settings, reason: str = "retired", details: dict[str, Any] | None = None
) -> str:
    """Remove alias `challenger`; returns the version retired."""
    current = mlflow_io.alias_version(settings, mlflow_io.CHALLENGER)
    if current is None:
        raise MlopsError("no challenger to clear: alias 'challenger' is not set")
    event = {
        "event": RETIRE,
        "version": current,
        "from_version": current,
        "passed": None,
        "forced": False,
        "reason": reason,
        "details": details,
    }
    _move(settings, event, None)
    return current


def _move(settings: Settings, event: dict[str, Any], version: str | None) -> None:
    require_current_schema(settings.store.url)
    with connect(settings.store.url, write=True) as conn:
        repository.record_event(conn, {"model_name": settings.store.model_name, **event})
        # Inside the transaction: if MLflow fails, the history does not claim the move.
        mlflow_io.set_alias(settings, mlflow_io.CHALLENGER, version)


def settle(settings: Settings, action: str, reason: str, evidence: dict[str, Any]) -> str:
    """Carry out a live verdict on the challenger (`evidence` is monitoring's, with `challenger`
    and `champion`): promote it through the one promote path, the live figures as the recorded
    reason, or retire it. Returns one line saying what was done."""
    version = str(evidence["challenger"])
    if action == "promote":
        replaced = promote(settings, version, f"live evidence: {reason}", live=evidence)
        return f"challenger v{version} promoted (was v{replaced}): {reason}"
    if action == "retire":
        if mlflow_io.alias_version(settings, mlflow_io.CHALLENGER) != version:
            raise MlopsError(f"--version {version}: no longer the challenger")
        clear(settings, f"live evidence: {reason}", {"live": evidence})
        return f"challenger v{version} retired: {reason}"
    raise MlopsError(f"action {action!r}: neither promote nor retire")
