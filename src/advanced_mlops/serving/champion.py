"""The model being served: loaded once from the registry alias, swapped when the alias moves.

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
from advanced_mlops.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Champion:
    version: str
    model: Any
    run_id: str
    trained_at: str
    gate: dict[str, str] = field(default_factory=dict)


def champion_version(settings: Settings) -> str:
    """The version behind alias `champion`, or an MlopsError saying there is none."""
    version = mlflow_io.alias_version(settings, mlflow_io.CHAMPION)
    if version is None:
        raise MlopsError(
            f"no champion: model {settings.store.model_name!r} has no version with alias "
            "'champion' (train, gate and promote one first)"
        )
    return version


def load_champion(settings: Settings) -> Champion:
    return load_version(settings, champion_version(settings))


def load_version(settings: Settings, version: str) -> Champion:
    """A registered version with its model loaded: what a worker swaps in when an alias moves."""
    entry = mlflow_io.model_version(settings, version)
    trained = datetime.fromtimestamp(entry.creation_timestamp / 1000, tz=UTC)
    return Champion(
        version=version,
        model=mlflow_io.load_model(settings, version),
        run_id=str(entry.run_id),
        trained_at=trained.isoformat(timespec="seconds"),
        gate={k: str(v) for k, v in entry.tags.items() if k.startswith("gate.")},
    )


class ChampionWatcher:
    """Holds the current champion and polls the registry for a moved alias."""

    def __init__(
        self,
        settings: Settings,
        interval_seconds: float,
        on_swap: Callable[[Champion], None] = lambda _: None,
    ) -> None:
        self.settings = settings
        self.interval = interval_seconds
        self.on_swap = on_swap
        self.current = load_champion(settings)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="champion-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def refresh(self) -> bool:
        """Swap to the registry's champion if it changed; True when it did."""
        version = mlflow_io.alias_version(self.settings, mlflow_io.CHAMPION)
        if version is None or version == self.current.version:
            return False
        fresh = load_champion(self.settings)
        log.info("champion moved from v%s to v%s", self.current.version, fresh.version)
        self.current = fresh
        self.on_swap(fresh)
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.refresh()
            except Exception:  # the registry may be briefly unreachable; keep serving
                log.warning("could not check the champion alias", exc_info=True)
