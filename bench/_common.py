"""Helpers shared by the benchmarks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from advanced_mlops.store.engine import upgrade

MARIADB = "mysql+pymysql://root@127.0.0.1:3306"


@contextmanager
def fresh_database(server_url: str = MARIADB) -> Iterator[str]:
    """A new MariaDB database with the store's schema, dropped afterwards."""
    name = f"mlops_bench_{uuid.uuid4().hex[:8]}"
    server = create_engine(server_url)
    with server.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    url = f"{server_url}/{name}?charset=utf8mb4"
    try:
        upgrade(url)
        yield url
    finally:
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()
