"""The MLflow edge: tracking set-up, model versions, aliases and loading a version's model."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, lru_cache
from typing import Any

from advanced_mlops.errors import MlopsError
from advanced_mlops.settings import Settings, masked_url

CHAMPION = "champion"
PREVIOUS_CHAMPION = "previous_champion"
CHALLENGER = "challenger"  # a version scored in shadow beside the champion, never answering


def _quiet() -> None:
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    for name in ("mlflow", "alembic", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)


def client(settings: Settings) -> Any:
    """An MlflowClient on the configured tracking URI (also set as the process default)."""
    _quiet()
    import mlflow

    mlflow.set_tracking_uri(settings.store.tracking_uri)
    mlflow.set_registry_uri(settings.store.tracking_uri)
    return _client(settings.store.tracking_uri)


@cache
def _client(tracking_uri: str) -> Any:
    """One client per URI, reused: the service asks the registry every few seconds."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri, tracking_uri)


def experiment_id(settings: Settings) -> str:
    """The experiment, created with its artifacts under MLOPS_HOME when tracking is local."""
    mlflow_client = client(settings)
    found = mlflow_client.get_experiment_by_name(settings.store.experiment_name)
    if found is not None:
        return str(found.experiment_id)
    local = settings.store.tracking_uri.startswith(("sqlite:", "file:", "/"))
    location = settings.store.artifacts_dir.as_uri() if local else None
    return str(mlflow_client.create_experiment(settings.store.experiment_name, location))


class RegistryError(MlopsError):
    """The registry could not be reached or failed: not an answer such as "no champion"."""


MISSING = "RESOURCE_DOES_NOT_EXIST"


@contextmanager
def answering(settings: Settings) -> Iterator[None]:
    """Turn a registry that cannot be reached or fails into one clear line (a RegistryError):
    callers must never read an outage as an absent model, alias or version."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        first = str(exc.message).splitlines()[0] if str(exc.message) else exc.error_code
        raise RegistryError(
            f"model registry {masked_url(settings.store.tracking_uri)} failed "
            f"({exc.error_code}): {first[:300]}"
        ) from None
    except (OSError, ConnectionError) as exc:
        raise RegistryError(
            f"model registry {masked_url(settings.store.tracking_uri)} cannot be reached: {exc}"
        ) from None


def model_version(settings: Settings, version: str) -> Any:
    """The registry entry of `version`, or a clear error when it does not exist."""
    from mlflow.exceptions import MlflowException

    if not version.isdigit():
        raise MlopsError(f"--version: {version!r} is not a version number")
    with answering(settings):
        try:
            return client(settings).get_model_version(settings.store.model_name, version)
        except MlflowException as exc:
            if exc.error_code != MISSING:
                raise
    raise MlopsError(
        f"--version {version}: model {settings.store.model_name!r} has no version {version}"
    )


def alias_version(settings: Settings, alias: str) -> str | None:
    """The version behind `alias`; None only when the registry answers that it has none (the
    model is not registered or the alias is not set). Anything else is a RegistryError."""
    from mlflow.exceptions import MlflowException

    with answering(settings):
        try:
            model = client(settings).get_registered_model(settings.store.model_name)
        except MlflowException as exc:
            if exc.error_code != MISSING:
                raise
            return None
    version = model.aliases.get(alias)
    return None if version is None else str(version)


def set_alias(settings: Settings, alias: str, version: str | None) -> None:
    """Point `alias` at `version`, or remove it when `version` is None."""
    mlflow_client = client(settings)
    with answering(settings):
        if version is None:
            if alias_version(settings, alias) is not None:
                mlflow_client.delete_registered_model_alias(settings.store.model_name, alias)
        else:
            mlflow_client.set_registered_model_alias(settings.store.model_name, alias, version)


def set_version_tags(settings: Settings, version: str, tags: dict[str, Any]) -> None:
    mlflow_client = client(settings)
    with answering(settings):
        for key, value in tags.items():
            mlflow_client.set_model_version_tag(settings.store.model_name, version, key, str(value))


def version_tagged(settings: Settings, key: str, value: str) -> str | None:
    """The newest version whose tag `key` is `value`, or None."""
    found = client(settings).search_model_versions(
        f"name='{settings.store.model_name}' and tags.`{key}` = '{value}'"
    )
    return max((str(v.version) for v in found), key=int, default=None)


@lru_cache(maxsize=4)
def _load(tracking_uri: str, name: str, version: str) -> Any:
    import mlflow.catboost

    return mlflow.catboost.load_model(f"models:/{name}/{version}")


def load_model(settings: Settings, version: str) -> Any:
    """The CatBoost model of a version; the last few are cached, since a version never changes."""
    client(settings)
    with answering(settings):
        return _load(settings.store.tracking_uri, settings.store.model_name, version)


def signature(settings: Settings, version: str) -> dict[str, Any] | None:
    """The input/output signature logged with a version's model, or None when it has none."""
    from mlflow.models import get_model_info

    client(settings)
    with answering(settings):
        found = get_model_info(f"models:/{settings.store.model_name}/{version}").signature
    return None if found is None else dict(found.to_dict())


def register_version(settings: Settings, model_uri: str, run_id: str, model_id: str) -> str:
    """A new version of the model from a logged model. Through the client, which prints nothing
    (`registered_model_name=` and `mlflow.register_model` print "Successfully registered model"
    and "Created version" lines to the terminal, with no logger to quiet them)."""
    from mlflow.exceptions import MlflowException

    mlflow_client = client(settings)
    try:
        mlflow_client.create_registered_model(settings.store.model_name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    created = mlflow_client.create_model_version(
        settings.store.model_name, source=model_uri, run_id=run_id, model_id=model_id
    )
    return str(created.version)


def registered_versions(settings: Settings) -> set[str]:
    """Every version number of the model in the registry."""
    found = client(settings).search_model_versions(f"name='{settings.store.model_name}'")
    return {str(v.version) for v in found}


@lru_cache(maxsize=16)
def _load_json(tracking_uri: str, run_id: str, path: str) -> Any:
    import mlflow.artifacts
    from mlflow.exceptions import MlflowException

    try:
        return mlflow.artifacts.load_dict(f"runs:/{run_id}/{path}")
    except (MlflowException, OSError):
        return None


def version_json_artifact(settings: Settings, version: str, path: str) -> Any:
    """A JSON artifact of the run that made `version`, or None when that run has none."""
    entry = model_version(settings, version)
    return _load_json(settings.store.tracking_uri, str(entry.run_id), path)
