"""The one exception type the CLI turns into a single clear line and a non-zero exit."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advanced_mlops.contracts.validate import ContractReport


class MlopsError(Exception):
    """A problem the user can act on: bad input, an unreachable store, a refused batch."""

    exit_code = 2


class ContractError(MlopsError):
    """Data that breaks its contract: retrying cannot help, so orchestrators fail at once.

    It keeps the day and the report, so a CI summary can show the failed expectations."""

    def __init__(
        self, message: str, day: date | None = None, report: ContractReport | None = None
    ) -> None:
        super().__init__(message)
        self.day = day
        self.report = report
