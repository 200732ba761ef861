"""The `mlops` command: every step a person, a DAG or a workflow runs."""

from advanced_mlops.cli.app import main

__all__ = ["main"]
