"""The installed package's version, which hatch-vcs took from the git tag it was built from.

`mlops --version`, the service's /metadata and the images' labels all report this one value."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "advanced-mlops"
UNKNOWN = "0.0.0+unknown"


def package_version() -> str:
    """The version of the installed distribution; UNKNOWN when run from a bare source tree."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return UNKNOWN
