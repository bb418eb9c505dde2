"""What a batch produced, as one outbox row per batch: written in the transaction that records
the batch's decisions and positions, published after the commit, then deleted. One row per batch
rather than the runtime's row per message: a batch of 2,000 events makes some 6,000 messages,
and one bytea is far cheaper to write and delete than 6,000 rows. A crash between commit and
delete leaves the row to ``relay`` (consumers dedupe on message ids)."""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Sequence

import asyncpg
from confluent_kafka import KafkaException
from orderflow_runtime.kafka import EventProducer
from orderflow_schemas import Topic
from orderflow_schemas.topics import BY_NAME

log = logging.getLogger(__name__)
Outgoing = tuple[Topic, str | None, bytes]


_HEAD = struct.Struct(">HiI")  # topic name length, key length (-1: none), value length


def pack(messages: Sequence[Outgoing]) -> bytes:
    """Length-prefixed frames: JSON inside JSON would escape every payload again."""
    parts: list[bytes] = []
    for topic, key, value in messages:
        name, k = topic.name.encode(), key.encode() if key is not None else b""
        parts += [_HEAD.pack(len(name), len(k) if key is not None else -1, len(value)),
                  name, k, value]
    return b"".join(parts)


def unpack(blob: bytes) -> list[Outgoing]:
    out: list[Outgoing] = []
    at = 0
    while at < len(blob):
        n, k, v = _HEAD.unpack_from(blob, at)
        at += _HEAD.size
        name = blob[at:at + n].decode()
        at += n
        key = blob[at:at + k].decode() if k >= 0 else None
        at += max(k, 0)
        out.append((BY_NAME[name], key, blob[at:at + v]))
        at += v
    return out


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


async def relay(pool: asyncpg.Pool, producer: EventProducer, older_than: float = 0.0) -> int:
    """Publish what a crash (or a worker that lost its partitions before it could publish) left
    behind, written at least ``older_than`` seconds ago; returns how many batches."""
    rows = await pool.fetch(
        "SELECT seq, messages FROM outbox_batches "
        "WHERE created_at <= now() - make_interval(secs => $1) ORDER BY seq", older_than)
    for row in rows:
        await publish(pool, producer, row["seq"], unpack(bytes(row["messages"])))
    return len(rows)


async def tend_forever(pool: asyncpg.Pool, producer: EventProducer, interval: float = 10.0,
                       keep_decided_days: float = 7.0) -> None:
    """Every ``interval``: publish batches left over for longer than that (the handler publishes
    its own at once; a duplicate is harmless, consumers dedupe on message ids), and forget
    decided event ids older than ``keep_decided_days`` (copies of an event come within
    minutes, not days)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await relay(pool, producer, older_than=interval)
            await pool.execute("DELETE FROM decided_events WHERE decided_at < now() - "
                               "make_interval(secs => $1)", keep_decided_days * 86400)
        except (OSError, asyncpg.PostgresError, KafkaException) as exc:
            log.warning("outbox relay failed, will retry", extra={"error": repr(exc)})
