"""`mlops deploy rollout`: switch the deploy host's compose stack to a released image tag.

The compose file reads `${IMAGE_TAG}` from its env file. The rollout writes the new tag there and
keeps the one it replaces as `PREVIOUS_IMAGE_TAG`, pulls, starts, and smoke-tests. When the deploy
folder is a git checkout, it is moved to the tag first, so the compose file is the one released
with the images. Any failure puts the env file and the checkout back as they were and, once
containers were started, starts the old tag again and smoke-tests it; the error names what failed
and which state the host is left in.

The prediction service runs as replicas behind a proxy (`REPLICAS`): every other service is
started first, then the replicas one at a time, each smoke-tested on its own port before the next
is touched, so one of them answers throughout. A replica that fails is put back on the old tag
while the other still serves. Every step waits for health with `--wait-timeout`: a release that
cannot start fails in that time, not after minutes.

Containers start with `up -d --no-build`: every image service of the compose file can also be
built, and without it Compose builds a tag it could not pull from whatever is checked out.
"""

from __future__ import annotations

import io
import math
import os
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from advanced_mlops.errors import MlopsError

TAG_KEY = "IMAGE_TAG"
PREVIOUS_KEY = "PREVIOUS_IMAGE_TAG"
# Docker's own grammar for a tag: word characters, dots and dashes, at most 128.
TAG_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")

# What the compose file publishes the smoke test's targets on, and its defaults for them.
BIND_KEY, BIND_DEFAULT = "BIND_ADDRESS", "127.0.0.1"
SERVICE_PORT = ("SERVICE_PORT", "3000")
AIRFLOW_PORT = ("AIRFLOW_PORT", "8080")
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


@dataclass(frozen=True)
class Replica:
    """A replica of the prediction service: its compose service and the port it is published on
    by itself (the proxy publishes SERVICE_PORT), where it is smoke-tested alone."""

    service: str
    port: tuple[str, str]


# docker-compose.yml's replicas, in the order a rollout replaces them.
REPLICAS = (
    Replica("service-blue", ("SERVICE_BLUE_PORT", "3001")),
    Replica("service-green", ("SERVICE_GREEN_PORT", "3002")),
)

Smoke = Callable[[], list[str]]
ReplicaSmoke = Callable[[Replica], list[str]]


class SmokeTestError(MlopsError):
    """A smoke test found problems (as opposed to a command that failed)."""

    def __init__(self, tag: str, problems: list[str]) -> None:
        super().__init__(f"smoke test of {tag} failed: {'; '.join(problems)}")
        self.problems = problems


def check_tag(tag: str) -> str:
    if not TAG_PATTERN.fullmatch(tag):
        raise MlopsError(
            f"--tag {tag!r}: not an image tag (letters, digits, '_', '.', '-'; at most 128)"
        )
    return tag


def env_value(text: str, key: str) -> str | None:
    """The value of `key` in a dotenv text (python-dotenv reads it as compose does)."""
    return dotenv_values(stream=io.StringIO(text)).get(key)


def compose_value(
    text: str, key: str, default: str, environ: Mapping[str, str] = os.environ
) -> str:
    """What `${KEY:-default}` becomes in the compose file: as Compose does, the shell's variable
    wins over the env file, and an empty value takes the default."""
    value = environ[key] if key in environ else env_value(text, key)
    return value or default


def published_url(
    text: str, port: tuple[str, str], env_file: Path, environ: Mapping[str, str] = os.environ
) -> str:
    """The URL of a port the compose file publishes on `${BIND_ADDRESS}:${PORT}`, reached from
    the host itself (a wildcard address is reached on loopback)."""
    key, default = port
    number = compose_value(text, key, default, environ)
    if not number.isdigit() or not 0 < int(number) < 65536:
        raise MlopsError(f"{key}={number!r} ({env_file} or the environment): not a port number")
    address = compose_value(text, BIND_KEY, BIND_DEFAULT, environ)
    host = _WILDCARDS.get(address, address)
    return f"http://[{host}]:{number}" if ":" in host else f"http://{host}:{number}"


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

    def run(self, *args: str, services: Sequence[str] | None = None) -> str:
        """`docker compose ARGS SERVICES` (this stack's services unless told which)."""
        command = [self.docker, "compose", "--env-file", str(self.env_file)]
        for file in self.files:
            command += ["-f", str(file)]
        names = list(self.services if services is None else services)
        # The shell's IMAGE_TAG would win over the env file's and defeat the switch.
        env = {k: v for k, v in os.environ.items() if k != TAG_KEY}
        return _run([*command, *args, *names], f"docker compose {' '.join([*args, *names])}", env)

    def up(self, services: Sequence[str] | None, wait: float, alone: bool = False) -> None:
        """Start `services` (None: all of this stack's) on the env file's tag and wait until they
        are healthy, at most `wait` seconds; `alone`: without touching their dependencies."""
        flags = ["--no-deps"] if alone else []
        timeout = ["--wait", "--wait-timeout", str(max(1, math.ceil(wait)))]
        self.run("up", "-d", "--no-build", *flags, *timeout, services=services)

    def plan(self) -> Plan:
        """What a rollout starts: every service but the replicas together, then each replica.

        A compose file without replicas is started as a whole (`others` None), as before."""
        names = list(self.services) or self.run("config", "--services").split()
        replicas = tuple(replica for replica in REPLICAS if replica.service in names)
        if not replicas:
            return Plan(tuple(self.services) or None, ())
        serving = {replica.service for replica in replicas}
        return Plan(tuple(name for name in names if name not in serving), replicas)


@dataclass(frozen=True)
class Plan:
    """The services started together (None: all; empty: none), then the replicas in order."""

    others: tuple[str, ...] | None
    replicas: tuple[Replica, ...]

    def only(self, replicas: Sequence[Replica]) -> Plan:
        """The same plan with only these replicas (those a failed rollout replaced)."""
        return Plan(self.others, tuple(r for r in reversed(self.replicas) if r in replicas))


def apply(
    compose: Compose,
    plan: Plan,
    tag: str,
    wait: float,
    replica_smoke: ReplicaSmoke | None,
    replacing: Callable[[Replica], None] = lambda replica: None,
) -> None:
    """Start the plan on the env file's `tag`: the other services, then one replica at a time,
    each healthy and smoke-tested alone before the next is touched (`replacing` hears of each
    before it is replaced). Raises SmokeTestError, or MlopsError for a command that failed."""
    if plan.others is None or plan.others:
        compose.up(plan.others, wait)
    for replica in plan.replicas:
        replacing(replica)
        compose.up([replica.service], wait, alone=True)
        problems = replica_smoke(replica) if replica_smoke else []
        if problems:
            raise SmokeTestError(tag, [f"{replica.service}: {problem}" for problem in problems])


@dataclass(frozen=True)
class Checkout:
    """The deploy folder as a git checkout of this repository: moved to the released tag with the
    images, so that the compose file (and `make deploy` itself) is the one they were built with."""

    path: Path
    git: str = "git"

    @classmethod
    def of(cls, folder: Path) -> Checkout | None:
        """The checkout at `folder`, or None when it is a plain folder (kept up to date by hand)."""
        return cls(folder) if (folder / ".git").exists() else None

    def run(self, *args: str) -> str:
        command = [self.git, "-C", str(self.path), "-c", "advice.detachedHead=false", *args]
        return _run(command, f"git {' '.join(args)}", dict(os.environ))

    def position(self) -> str:
        """The branch checked out, or the commit when detached: what `restore` goes back to."""
        branch = self.run("rev-parse", "--abbrev-ref", "HEAD").strip()
        return self.run("rev-parse", "HEAD").strip() if branch == "HEAD" else branch

    def move_to_tag(self, tag: str) -> str:
        """Check out `tag` (fetched from `origin` when unknown here); returns where HEAD was.

        Local changes to tracked files are refused: the release would replace them."""
        changed = self.run("status", "--porcelain", "--untracked-files=no").splitlines()
        if changed:
            files = ", ".join(line[3:] for line in changed)
            raise MlopsError(f"{self.path} has local changes to {files}: commit or discard them")
        before = self.position()
        try:
            self.run("rev-parse", "--quiet", "--verify", f"refs/tags/{tag}^{{commit}}")
        except MlopsError:
            self.run("fetch", "--quiet", "--no-tags", "origin", "tag", tag)
        self.run("checkout", "--quiet", "--detach", f"refs/tags/{tag}")
        return before

    def restore(self, position: str) -> None:
        self.run("checkout", "--quiet", position)


def _run(command: list[str], name: str, env: dict[str, str]) -> str:
    """Run a host command; its failure is one line: which command, its exit code, its last line."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    except OSError as exc:
        raise MlopsError(f"cannot run {command[0]!r}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()
        last = output[-1] if output else "no output"
        raise MlopsError(f"`{name}` exited {done.returncode}: {last}")
    return done.stdout


def rollout(
    compose: Compose,
    tag: str,
    smoke: Smoke,
    checkout: Checkout | None = None,
    pull: bool = True,
    replica_smoke: ReplicaSmoke | None = None,
    wait: float = 180,
) -> str | None:
    """Put the stack on `tag` and smoke-test it; returns the previous tag kept in the file.

    `smoke` tests the whole stack at the end, `replica_smoke` each replica as soon as it runs the
    tag; `wait` bounds each compose step's wait for health. `pull=False` is for images already
    on the host (`docker load` on an air-gapped host, or built there as `make stack-e2e` does): a
    tag whose images are missing then fails at `up`."""
    check_tag(tag)
    for file in (*compose.files, compose.env_file):
        if not file.is_file():
            raise MlopsError(f"{file}: no such file on this host")
    original = compose.env_file.read_text(encoding="utf-8")
    text, previous = switched(original, tag)
    moved = (checkout, checkout.move_to_tag(tag)) if checkout else None
    undo = Undo(compose, original, wait, moved)
    compose.env_file.write_text(text, encoding="utf-8")
    try:
        plan = compose.plan()  # the released compose file's services
        if pull:
            compose.run("pull")  # an image that cannot be pulled stops the rollout here...
        undo.started = True
        apply(compose, plan, tag, wait, replica_smoke, undo.replaced.append)  # ...or here, never
        problems = smoke()  # built from the checkout
        if problems:
            raise SmokeTestError(tag, problems)
    except MlopsError as exc:
        raise MlopsError(f"{exc}; {undo.roll_back(smoke, replica_smoke)}") from None
    except BaseException:  # interrupted or a bug: still leave the host on its old tag
        undo.roll_back(None, None)
        raise
    return previous


@dataclass
class Undo:
    """What puts the host back: the env file's text, the checkout with where its HEAD was,
    whether containers of the new tag were started, and which replicas were replaced."""

    compose: Compose
    original: str
    wait: float
    moved: tuple[Checkout, str] | None = None
    started: bool = False
    replaced: list[Replica] = field(default_factory=list)

    def roll_back(self, smoke: Smoke | None, replica_smoke: ReplicaSmoke | None) -> str:
        """Restore the files, restart the old tag where containers were touched (the replaced
        replicas one at a time, last first) and smoke-test it again (unless interrupted); says
        which state the host is left in."""
        self.compose.env_file.write_text(self.original, encoding="utf-8")
        notes = [_restore(*self.moved)] if self.moved else []
        before = env_value(self.original, TAG_KEY)
        if not self.started:
            notes.append(f"{TAG_KEY} stays {before or 'unset'}")
        elif before is None:
            notes.append(f"no previous {TAG_KEY} to roll back to: the host runs the failed tag")
        else:
            notes.append(self._restart(before, smoke, replica_smoke))
        return "; ".join(notes)

    def _restart(self, before: str, smoke: Smoke | None, replica_smoke: ReplicaSmoke | None) -> str:
        """Start the old tag again and tell whether it is healthy: the host's state after a
        failure."""
        try:
            plan = self.compose.plan().only(self.replaced)  # the old compose file's services
            apply(self.compose, plan, before, self.wait, replica_smoke)
            problems = smoke() if smoke else []
        except SmokeTestError as exc:
            problems = exc.problems
        except MlopsError as exc:
            return f"rolling back to {before} failed too: {exc}"
        if smoke is None:
            return f"rolled back to {before} (not smoke-tested)"
        if problems:
            return f"rolled back to {before}, which fails the smoke test too: {'; '.join(problems)}"
        return f"rolled back to {before}, which passes the smoke test"


def _restore(checkout: Checkout, position: str) -> str:
    try:
        checkout.restore(position)
    except MlopsError as exc:
        return f"putting the checkout back on {position} failed: {exc}"
    return f"checkout back on {position}"
