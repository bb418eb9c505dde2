"""PostgreSQL: one pool per service, in a schema of its own, and versioned migrations.

Migrations are ``NNNN_name.sql`` files applied in order at start-up, each once, under an
advisory lock so that several replicas starting together do not race."""

from __future__ import annotations

import logging
import zlib
from pathlib import Path
from typing import Any

import asyncpg
import orjson

log = logging.getLogger(__name__)


def _json(value: Any) -> bytes:
    """``bytes`` are taken as JSON already made (a projection that has the message's text need
    not build a dict to have it dumped again); anything else is dumped."""
    return value if isinstance(value, bytes) else orjson.dumps(value)


async def _init_connection(conn: asyncpg.Connection) -> None:
    # Binary format, so that COPY (binary only in asyncpg) can write json columns too.
    await conn.set_type_codec("json", schema="pg_catalog", format="binary", encoder=_json,
                              decoder=orjson.loads)
    await conn.set_type_codec("jsonb", schema="pg_catalog", format="binary",
                              encoder=lambda v: b"\x01" + _json(v),  # jsonb's version byte
                              decoder=lambda b: orjson.loads(b[1:]))
    # asyncpg learns each array type from the catalog the first time a connection meets it:
    # one query (~8 ms of the server's time) per new set of types, several per connection as the
    # batches' statements come, on the path of the first orders. All of them at once, here.
    await conn.prepare(_ARRAYS)


# The array types the services bind (``unnest($1::bigint[])``); text[] asyncpg knows already.
_ARRAYS = ("SELECT $1::bool[], $2::bytea[], $3::int[], $4::bigint[], $5::float8[], "
           "$6::timestamptz[], $7::numeric[]")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a released connection needs beyond what asyncpg always does (roll back a transaction
    left open, drop listener callbacks): nothing. asyncpg's default also sends
    ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``, a round trip on every release,
    13% of the executor's busy time in bench/executor_bench.py (py-spy). orderflow keeps no session
    state on pooled connections: its advisory locks are transaction-scoped (migrations unlock
    theirs), ``SET`` only ``LOCAL``, no cursors outside transactions, and the trigger feed
    UNLISTENs before it gives its connection back."""


async def create_pool(dsn: str, schema: str, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose connections find this service's tables first."""
    pool = await asyncpg.create_pool(
        dsn, min_size=1, max_size=max_size, init=_init_connection, reset=_keep_session,
        server_settings={"search_path": f"{schema},public",
                         "application_name": f"orderflow-{schema}"},
    )
    assert pool is not None
    return pool


async def migrate(pool: asyncpg.Pool, schema: str, directory: Path) -> list[str]:
    """Apply the migrations of ``directory`` not applied yet; returns those applied now."""
    applied_now: list[str] = []
    files = sorted(directory.glob("*.sql"))
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", zlib.crc32(schema.encode()))
        try:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute(
                f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations '
                "(version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await conn.fetch(
                f'SELECT version FROM "{schema}".schema_migrations')}
            for path in files:
                if path.stem in done:
                    continue
                async with conn.transaction():
                    await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
                    await conn.execute(path.read_text())
                    await conn.execute(
                        f'INSERT INTO "{schema}".schema_migrations(version) VALUES ($1)', path.stem)
                applied_now.append(path.stem)
                log.info("migration applied", extra={"schema": schema, "version": path.stem})
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", zlib.crc32(schema.encode()))
    return applied_now


def row_dict(row: Any) -> dict[str, Any]:
    return dict(row) if row is not None else {}
