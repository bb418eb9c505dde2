"""A transactional outbox: messages are written in the same transaction as the state they come
from, then published and deleted. A crash between the two leaves them in the table and they are
published on the next relay (consumers dedupe on the message id), so nothing is lost.

Each service's first migration creates its ``outbox`` table with ``OUTBOX_DDL``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import asyncpg
from orderflow_schemas import Message, Topic
from orderflow_schemas.topics import BY_NAME

from .kafka import EventProducer

log = logging.getLogger(__name__)

OUTBOX_DDL = """
CREATE TABLE IF NOT EXISTS outbox (
    seq bigserial PRIMARY KEY,
    topic text NOT NULL,
    key text,
    payload bytea NOT NULL
);
"""


async def add(conn: asyncpg.Connection,
              items: Sequence[tuple[Topic, str | None, Message]]) -> list[int]:
    """Queue messages inside the caller's transaction; returns their sequence numbers."""
    if not items:
        return []
    rows = await conn.fetch(
        "INSERT INTO outbox(topic, key, payload) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[]) RETURNING seq",
        [t.name for t, _, _ in items], [k for _, k, _ in items], [m.to_wire() for _, _, m in items],
    )
    return [r["seq"] for r in rows]


async def relay(pool: asyncpg.Pool, producer: EventProducer, seqs: Sequence[int] | None = None,
                limit: int = 5000) -> int:
    """Publish queued messages (those of ``seqs``, or the oldest pending), await the broker, then
    delete them. Returns how many were published."""
    async with pool.acquire() as conn:
        if seqs is None:
            rows = await conn.fetch(
                "SELECT seq, topic, key, payload FROM outbox ORDER BY seq LIMIT $1", limit)
        else:
            rows = await conn.fetch(
                "SELECT seq, topic, key, payload FROM outbox WHERE seq = ANY($1::bigint[]) "
                "ORDER BY seq", list(seqs))
        if not rows:
            return 0
        futures = [producer.send_nowait(BY_NAME[r["topic"]], r["key"], bytes(r["payload"]))
                   for r in rows]
        await asyncio.gather(*futures)
        await conn.execute("DELETE FROM outbox WHERE seq = ANY($1::bigint[])",
                           [r["seq"] for r in rows])
    return len(rows)


async def relay_forever(pool: asyncpg.Pool, producer: EventProducer, interval: float = 1.0) -> None:
    """Publish what a crashed or failed relay left behind."""
    while True:
        try:
            while await relay(pool, producer):
                pass
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("outbox relay failed, will retry", extra={"error": repr(exc)})
        await asyncio.sleep(interval)
