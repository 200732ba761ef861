"""The one exception type the CLI turns into a single clear line and a non-zero exit.

Errors of a particular kind live next to the code that raises them and derive from this one
(e.g. `contracts.validate.ContractError`).
"""

from __future__ import annotations


class MlopsError(Exception):
    """A problem the user can act on: bad input, an unreachable store, a refused batch."""

    exit_code = 2
