"""A MariaDB server of the test's own (datadir in a temporary folder), which a test may really stop
and start again: the shared server is never touched."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.conftest import free_port


class PrivateMariaDB:
    def __init__(self, folder: Path) -> None:
        self.datadir = folder / "data"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = folder / "mariadbd.log"
        if shutil.which("mariadbd") is None and not Path("/usr/sbin/mariadbd").exists():
            raise RuntimeError("needs mariadbd (apt-get install mariadb-server)")
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", "--user=root", f"--datadir={self.datadir}",
             "--auth-root-authentication-method=socket", "--skip-test-db"],
            check=True, capture_output=True,
        )  # fmt: skip

    @property
    def server_url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}"

    def start(self) -> None:
        mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
        self.process = subprocess.Popen(
            [mariadbd, "--no-defaults", "--user=root", f"--datadir={self.datadir}",
             f"--socket={self.datadir / 's.sock'}", f"--port={self.port}",
             "--bind-address=127.0.0.1", "--skip-grant-tables", "--innodb-buffer-pool-size=32M"],
            stdout=self.log.open("a"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"private mariadbd did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """A real shutdown (SIGTERM, waited for)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=60)
            self.process = None

    def create_database(self, name: str) -> str:
        engine = create_engine(self.server_url)
        with engine.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        engine.dispose()
        return f"{self.server_url}/{name}?charset=utf8mb4"
