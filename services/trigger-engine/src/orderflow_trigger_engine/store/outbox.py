"""What a batch produced, as one outbox row per batch: written in the transaction that records
the batch's decisions and positions, published after the commit, then deleted. One row per batch
rather than the runtime's row per message: a batch of 2,000 events makes some 6,000 messages,
and one bytea is far cheaper to write and delete than 6,000 rows. A crash between commit and
delete leaves the row to ``relay`` (consumers dedupe on message ids)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg
import orjson
from orderflow_runtime.kafka import EventProducer
from orderflow_schemas import Topic
from orderflow_schemas.topics import BY_NAME

Outgoing = tuple[Topic, str | None, bytes]


def pack(messages: Sequence[Outgoing]) -> bytes:
    return orjson.dumps([[t.name, k, v.decode()] for t, k, v in messages])


def unpack(blob: bytes) -> list[Outgoing]:
    return [(BY_NAME[t], k, v.encode()) for t, k, v in orjson.loads(blob)]


async def add(conn: asyncpg.Connection, messages: Sequence[Outgoing]) -> int:
    return await conn.fetchval(  # type: ignore[no-any-return]
        "INSERT INTO outbox_batches(messages) VALUES ($1) RETURNING seq", pack(messages))


async def publish(pool: asyncpg.Pool, producer: EventProducer, seq: int,
                  messages: Sequence[Outgoing]) -> None:
    """Produce every message, in order per topic, wait for the broker, delete the row."""
    by_topic: dict[Topic, list[tuple[str | bytes | None, bytes, None]]] = {}
    for topic, key, value in messages:
        by_topic.setdefault(topic, []).append((key, value, None))
    await asyncio.gather(*(producer.send_many(t, m) for t, m in by_topic.items()))
    await pool.execute("DELETE FROM outbox_batches WHERE seq = $1", seq)


async def relay(pool: asyncpg.Pool, producer: EventProducer) -> int:
    """Publish what a crash left behind; returns how many batches."""
    rows = await pool.fetch("SELECT seq, messages FROM outbox_batches ORDER BY seq")
    for row in rows:
        await publish(pool, producer, row["seq"], unpack(bytes(row["messages"])))
    return len(rows)
