"""The models a worker holds: the champion that answers, and the challenger in shadow, each loaded
from its registry alias and swapped when the alias moves (one `AliasWatcher` per alias).

Requests take a reference to the current `Champion` once and use it to the end, so a swap never
breaks a request in flight; the new model is loaded before the reference changes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from advanced_mlops import mlflow_io
from advanced_mlops.errors import MlopsError
from advanced_mlops.serving.shap_table import ShapTable
from advanced_mlops.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Champion:
    version: str
    model: Any
    run_id: str
    trained_at: str
    gate: dict[str, str] = field(default_factory=dict)
    explainer: ShapTable | None = None  # its exact SHAP values, kept per leaf (shap_table.py)


def champion_version(settings: Settings) -> str:
    """The version behind alias `champion`, or an MlopsError saying there is none."""
    return required_version(settings, mlflow_io.CHAMPION)


def required_version(settings: Settings, alias: str) -> str:
    """The version behind `alias`, or an MlopsError saying there is none."""
    version = mlflow_io.alias_version(settings, alias)
    if version is None:
        raise MlopsError(
            f"no {alias}: model {settings.store.model_name!r} has no version with alias "
            f"{alias!r} (train, gate and promote one first)"
        )
    return version


def load_champion(settings: Settings) -> Champion:
    return load_version(settings, champion_version(settings))


def load_version(settings: Settings, version: str) -> Champion:
    """A registered version with its model loaded: what a worker swaps in when an alias moves."""
    entry = mlflow_io.model_version(settings, version)
    trained = datetime.fromtimestamp(entry.creation_timestamp / 1000, tz=UTC)
    model = mlflow_io.load_model(settings, version)
    return Champion(
        version=version,
        model=model,
        run_id=str(entry.run_id),
        trained_at=trained.isoformat(timespec="seconds"),
        gate={k: str(v) for k, v in entry.tags.items() if k.startswith("gate.")},
        explainer=_shap_table(model, version),
    )


def _shap_table(model: Any, version: str) -> ShapTable | None:
    """The model's SHAP table, or None (CatBoost's own call) for a model it cannot take: a table
    that fails must never keep a model from serving."""
    try:
        return ShapTable(model) if ShapTable.supports(model) else None
    except Exception as exc:
        log.warning("v%s explains through CatBoost's own call: no SHAP table (%s: %s)",
                    version, type(exc).__name__, exc)  # fmt: skip
        return None


class AliasWatcher:
    """Follows one registry alias (`champion`, `challenger`) in a thread of its own and holds its
    model in `current`: None while the alias is not set. A `required` watcher (the champion) loads
    its model at start, MlopsError when there is none, and keeps serving the last model if the
    alias disappears: a service must always have something to answer with."""

    def __init__(
        self,
        settings: Settings,
        alias: str,
        interval_seconds: float,
        on_swap: Callable[[Champion | None], None] = lambda _: None,
        *,
        required: bool = False,
    ) -> None:
        self.settings = settings
        self.alias = alias
        self.interval = interval_seconds
        self.on_swap = on_swap
        self.required = required
        self.current: Champion | None = None
        if required:
            self.current = load_version(settings, required_version(settings, alias))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{alias}-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def refresh(self) -> bool:
        """Follow the registry's alias if it moved; True when it did."""
        version = mlflow_io.alias_version(self.settings, self.alias)
        before = self.current.version if self.current else None
        if version == before or (version is None and self.required):
            return False
        fresh = None if version is None else load_version(self.settings, version)
        log.info("%s moved from %s to %s", self.alias, _named(before), _named(version))
        self.current = fresh
        self.on_swap(fresh)
        return True

    def _run(self) -> None:
        while True:
            try:
                self.refresh()
            except Exception:  # the registry may be briefly unreachable; keep what we have
                log.warning("could not check alias %s", self.alias, exc_info=True)
            if self._stop.wait(self.interval):
                return


def _named(version: str | None) -> str:
    return f"v{version}" if version else "none"
