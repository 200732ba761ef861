"""Connections to the store and its schema version, with errors a person can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from advanced_mlops.errors import MlopsError
from advanced_mlops.settings import masked_url

MIGRATIONS = Path(__file__).with_name("migrations")


@cache
def get_engine(url: str, *, bulk: bool = False) -> Engine:
    """One pooled engine per URL for the whole process, and one more for bulk loads.

    Only the bulk engine's MySQL connections allow `LOAD DATA LOCAL INFILE` (`local_infile`):
    with it, a server can ask the client for any file it can read, so ordinary connections go
    without."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: e.g. a port that is not a number
        raise MlopsError(f"MLOPS_DB_URL: not a database URL: {masked_url(url)}") from None
    options: dict[str, object] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"timeout": 30}
    elif parsed.get_backend_name() in {"mysql", "mariadb"}:
        options["connect_args"] = {"connect_timeout": 5, "local_infile": bulk}
        options["pool_recycle"] = 3600
    else:
        options["connect_args"] = {"connect_timeout": 5}
    try:
        engine = create_engine(parsed, **options)
    except NoSuchModuleError:
        raise MlopsError(f"MLOPS_DB_URL: unsupported database: {masked_url(url)}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def connect(url: str, *, write: bool = False, bulk: bool = False) -> Iterator[Connection]:
    """A connection (a transaction when `write`) with unreachable-database errors made readable;
    `bulk` for one that writes large frames (see `get_engine`)."""
    engine = get_engine(url, bulk=bulk)
    try:
        with engine.begin() if write else engine.connect() as conn:
            yield conn
    except DBAPIError as exc:
        if exc.connection_invalidated or _is_unreachable(exc):
            raise MlopsError(
                f"cannot reach the database at {masked_url(url)}: {_first_line(exc.orig)}"
            ) from None
        raise


def _is_unreachable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "args", [None])[0]
    message = str(exc.orig).lower()
    return code in {2002, 2003, 2005, 2006, 2013, 1045, 1049} or any(
        sign in message for sign in ("unable to open", "connection refused", "connection failed")
    )


def _first_line(error: object) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _alembic_config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def upgrade(url: str) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest revision; returns (before, after)."""
    with connect(url, write=True) as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(_alembic_config(conn), "head")
        after = MigrationContext.configure(conn).get_current_revision()
    return before, after or ""


def require_current_schema(url: str) -> None:
    """Fail with the command to run when the store was never created or is out of date."""
    with connect(url) as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(_alembic_config(conn)).get_current_head()
    if current != head:
        state = "has no schema" if current is None else f"is at revision {current}, not {head}"
        raise MlopsError(f"the store at {masked_url(url)} {state}: run `mlops db upgrade`")
