"""The package's version comes from the git tag (hatch-vcs), and every tree still builds: a
fresh shallow clone without tags (CI's checkout), a tree without git (a Docker build context),
and a build told its version (the Dockerfiles' VERSION build argument)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_FILES = ("pyproject.toml", "README.md", "src", "data_contracts")
PRETEND = "SETUPTOOLS_SCM_PRETEND_VERSION"


def run(*command: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SETUPTOOLS_SCM")}
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, check=False,
        env={**environ, "GIT_CONFIG_GLOBAL": "/dev/null", **(env or {})},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def built_version(tree: Path, env: dict[str, str] | None = None) -> str:
    """The version in the name of the wheel `uv build` makes of `tree`."""
    out = tree / "dist"
    shutil.rmtree(out, ignore_errors=True)
    run("uv", "build", "--wheel", "--quiet", "--out-dir", str(out), cwd=tree, env=env)
    (wheel,) = out.glob("*.whl")
    return wheel.name.split("-")[1]


def git(tree: Path, *args: str) -> str:
    return run("git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args, cwd=tree)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's package sources in a repository of their own."""
    path = tmp_path_factory.mktemp("project")
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, path / name)
    return path


@pytest.mark.slow
def test_the_version_follows_the_tag_and_every_tree_builds(tree: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    shutil.copytree(tree, bare)
    assert built_version(bare) == "0.0.0"  # no git at all: the fallback
    assert built_version(bare, {PRETEND: "1.4.2"}) == "1.4.2"  # what the Dockerfiles pass

    git(tree, "init", "--quiet", "--initial-branch=main")
    git(tree, "add", ".")
    git(tree, "commit", "--quiet", "-m", "first")
    git(tree, "tag", "v1.4.2")
    assert built_version(tree) == "1.4.2"
    (tree / "README.md").write_text("changed\n")
    git(tree, "commit", "--quiet", "-am", "after the release")
    after = built_version(tree)
    assert after.startswith("1.4.3.dev1+g"), after  # the next release's development build

    clone = tmp_path / "clone"  # what actions/checkout makes: one commit, no tags
    run("git", "clone", "--quiet", "--depth", "1", f"file://{tree}", str(clone), cwd=tmp_path)
    assert run("git", "tag", cwd=clone) == ""
    shallow = built_version(clone)
    assert shallow.startswith("0."), shallow
    assert "+g" in shallow, shallow
