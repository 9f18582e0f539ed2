"""A throw-away PostgreSQL server for the store tests: Debian's ``postgresql`` package, a cluster
made by ``initdb`` in a temporary folder, listening on 127.0.0.1 on a free port.

PostgreSQL refuses to run as root, so as root (CI) the cluster belongs to the ``postgres`` user the
package creates and its programs run through ``runuser``. Where no server can be started (package
missing, no ``postgres`` user) the caller skips with the reason this module gives.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

START_TIMEOUT = 60  # seconds for pg_ctl to see the server accept connections


class PostgresUnavailable(Exception):
    """No PostgreSQL server can be started here; the message says why."""


def _bin_dir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    if not versions:
        raise PostgresUnavailable(
            "PostgreSQL is not installed (apt-get install postgresql; scripts/test.sh does it)"
        )
    return versions[-1].parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def temporary_postgres() -> Iterator[str]:
    """Start a PostgreSQL server for the duration of the block; yield its URL.

    Raises
    ------
    PostgresUnavailable
        Not installed, no user to run it as, or it did not start (with the end of its log).
    """
    binaries = _bin_dir()
    folder = Path(tempfile.mkdtemp(prefix="rfm-postgres-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise PostgresUnavailable("running as root and there is no 'postgres' user") from exc
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log, port = folder / "data", folder / "server.log", _free_port()

    def run(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=START_TIMEOUT
        )

    started = False
    try:
        made = run(str(binaries / "initdb"), "-D", str(data), "-U", "rfm", "--auth=trust",
                   "-E", "UTF8", "--no-sync")  # fmt: skip
        if made.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {made.stderr.strip()[-500:]}")
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        start = run(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log),
                    "-w", "-t", str(START_TIMEOUT), "start")  # fmt: skip
        if start.returncode != 0:
            tail = log.read_text(errors="replace")[-800:] if log.exists() else start.stderr
            raise PostgresUnavailable(f"the PostgreSQL server did not start: {tail.strip()}")
        started = True
        yield f"postgresql://rfm@127.0.0.1:{port}/postgres"
    finally:
        if started:
            run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """Create an empty database on the server; return its URL.

    Parameters
    ----------
    server_url : str
        :func:`temporary_postgres`.

    Returns
    -------
    str
    """
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"
