"""The one exception type the CLI turns into a single clear line and a non-zero exit."""


class MlopsError(Exception):
    """A problem the user can act on: bad input, an unreachable store, a refused batch."""

    exit_code = 2


class ContractError(MlopsError):
    """Data that breaks its contract: retrying cannot help, so orchestrators fail at once."""
