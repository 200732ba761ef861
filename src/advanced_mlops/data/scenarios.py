"""Named data scenarios: how the world the generator simulates changes from a start date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from advanced_mlops.errors import MlopsError


class ScenarioName(StrEnum):
    STABLE = "stable"
    COVARIATE_DRIFT = "covariate_drift"
    CONCEPT_DRIFT = "concept_drift"
    SCHEMA_BREAK = "schema_break"


@dataclass(frozen=True)
class Scenario:
    """A scenario that applies to every day on or after `start`, optionally with another one
    layered on top from its own start (`also`): e.g. a concept drift within a covariate drift."""

    name: ScenarioName = ScenarioName.STABLE
    start: date | None = None
    also: Scenario | None = None

    def active(self, day: date) -> bool:
        return self.name is not ScenarioName.STABLE and (self.start is None or day >= self.start)

    def kinds(self, day: date) -> frozenset[ScenarioName]:
        """Every scenario in force on `day` (empty: a stable day)."""
        own = frozenset({self.name}) if self.active(day) else frozenset()
        return own | (self.also.kinds(day) if self.also else frozenset())

    def label(self, day: date) -> str:
        """What `day` is recorded as: 'stable', 'concept_drift', 'covariate_drift+concept_drift'."""
        return "+".join(sorted(k.value for k in self.kinds(day))) or ScenarioName.STABLE.value


def parse_scenario(name: str, start: date | None = None) -> Scenario:
    try:
        return Scenario(ScenarioName(name), start)
    except ValueError:
        allowed = ", ".join(s.value for s in ScenarioName)
        raise MlopsError(f"--scenario: unknown scenario {name!r} (choose from {allowed})") from None
