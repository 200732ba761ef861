"""The one exception type the CLI turns into a single clear line and a non-zero exit."""


class MlopsError(Exception):
    """A problem the user can act on: bad input, an unreachable store, a refused batch."""

    exit_code = 2
