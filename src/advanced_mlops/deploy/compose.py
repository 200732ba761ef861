"""`mlops deploy rollout`: switch the deploy host's compose stack to a released image tag.

The compose file reads `${IMAGE_TAG}` from its env file. The rollout writes the new tag there and
keeps the one it replaces as `PREVIOUS_IMAGE_TAG`, pulls, starts, and smoke-tests. Any failure
puts the env file back as it was and, once containers were started, runs `up -d` again, so the host
is left on the tag it had; the error names what failed.
"""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from advanced_mlops.errors import MlopsError

TAG_KEY = "IMAGE_TAG"
PREVIOUS_KEY = "PREVIOUS_IMAGE_TAG"
# Docker's own grammar for a tag: word characters, dots and dashes, at most 128.
TAG_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")

Smoke = Callable[[], list[str]]


def check_tag(tag: str) -> str:
    if not TAG_PATTERN.fullmatch(tag):
        raise MlopsError(
            f"--tag {tag!r}: not an image tag (letters, digits, '_', '.', '-'; at most 128)"
        )
    return tag


def env_value(text: str, key: str) -> str | None:
    """The value of `key` in a dotenv text (python-dotenv reads it as compose does)."""
    return dotenv_values(stream=io.StringIO(text)).get(key)


def with_values(text: str, values: dict[str, str]) -> str:
    """`text` with each key set to its value: replaced in place, or appended; the rest kept."""
    lines, done = [], set()
    for line in text.splitlines():
        match = _ASSIGNMENT.match(line)
        key = match.group(1) if match else None
        if key in values:
            if key not in done:
                lines.append(f"{key}={values[key]}")
                done.add(key)
            continue
        lines.append(line)
    lines += [f"{k}={v}" for k, v in values.items() if k not in done]
    return "\n".join(lines) + "\n"


def switched(text: str, tag: str) -> tuple[str, str | None]:
    """The env text on `tag`, keeping the replaced tag as the previous one; and that tag."""
    current = env_value(text, TAG_KEY)
    if current is None or current == tag:  # a re-run keeps the previous tag it had
        previous = env_value(text, PREVIOUS_KEY)
        values = {TAG_KEY: tag, **({PREVIOUS_KEY: previous} if previous else {})}
        return with_values(text, values), previous
    return with_values(text, {TAG_KEY: tag, PREVIOUS_KEY: current}), current


@dataclass(frozen=True)
class Compose:
    """`docker compose` on the deploy host's stack, limited to `services` (all when empty)."""

    env_file: Path
    files: Sequence[Path]
    services: Sequence[str] = ()
    docker: str = "docker"

    def run(self, *args: str) -> None:
        command = [self.docker, "compose", "--env-file", str(self.env_file)]
        for file in self.files:
            command += ["-f", str(file)]
        command += [*args, *self.services]
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise MlopsError(f"cannot run {self.docker!r}: {exc.strerror or exc}") from None
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip().splitlines()
            last = output[-1] if output else "no output"
            raise MlopsError(f"`docker compose {' '.join(args)}` exited {done.returncode}: {last}")


def rollout(compose: Compose, tag: str, smoke: Smoke) -> str | None:
    """Put the stack on `tag` and smoke-test it; returns the previous tag kept in the file."""
    check_tag(tag)
    for file in (*compose.files, compose.env_file):
        if not file.is_file():
            raise MlopsError(f"{file}: no such file on this host")
    original = compose.env_file.read_text(encoding="utf-8")
    text, previous = switched(original, tag)
    compose.env_file.write_text(text, encoding="utf-8")
    started = False
    try:
        compose.run("pull")
        started = True
        compose.run("up", "-d")
        problems = smoke()
        if problems:
            raise MlopsError(f"smoke test of {tag} failed: {'; '.join(problems)}")
    except MlopsError as exc:
        raise MlopsError(f"{exc}; {_roll_back(compose, original, started)}") from None
    except BaseException:  # interrupted or a bug: still leave the host on its old tag
        _roll_back(compose, original, started)
        raise
    return previous


def _roll_back(compose: Compose, original: str, started: bool) -> str:
    """Restore the env file, and the containers when they were touched; says what it did."""
    compose.env_file.write_text(original, encoding="utf-8")
    before = env_value(original, TAG_KEY)
    if not started:
        return f"{TAG_KEY} stays {before or 'unset'}"
    if before is None:
        return f"no previous {TAG_KEY} to roll back to"
    try:
        compose.run("up", "-d")
    except MlopsError as exc:
        return f"rolling back to {before} failed too: {exc}"
    return f"rolled back to {before}"
