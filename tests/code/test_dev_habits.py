"""The habits kept in files: pre-commit runs what `make lint` runs, dependabot watches every kind
of dependency the repository pins, the changelog follows Keep a Changelog."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from tests.code.test_workflows import dry_run

ROOT = Path(__file__).resolve().parents[2]


def tool(command: str) -> str:
    """The linter a command runs: `uv run --extra airflow mypy` -> `mypy`, `uv run ruff check
    --fix` -> `ruff check`."""
    words = [w for w in shlex.split(command) if not w.startswith("-")]
    words = words[2:] if words[:2] == ["uv", "run"] else words
    words = [w for w in words if w not in ("airflow", "infra")]  # --extra/--group values
    return " ".join(words[:2]) if words[0] == "ruff" else words[0]


def test_pre_commit_runs_the_linters_of_make_lint() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    from_hooks = {tool(hook["entry"]) for hook in hooks if hook["id"] != "uv-lock"}
    from_make = {tool(line) for line in dry_run("lint")}
    assert from_hooks == from_make == {"ruff check", "ruff format", "mypy", "lint-imports"}


def test_dependabot_watches_every_kind_of_pinned_dependency() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    watched = {(u["package-ecosystem"], u["directory"]) for u in config["updates"]}
    expected = {("github-actions", "/"), ("uv", "/")}
    expected |= {
        ("docker", "/" + str(p.parent.relative_to(ROOT))) for p in ROOT.glob("docker/*.Dockerfile")
    }
    assert (ROOT / "uv.lock").is_file()
    assert watched == expected


def test_the_changelog_keeps_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "https://keepachangelog.com/en/1.1.0/" in text
    sections = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert sections[0] == "Unreleased"
    for heading in re.findall(r"^### (.+)$", text, re.M):
        assert heading in {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
