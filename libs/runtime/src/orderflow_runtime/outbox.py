"""A transactional outbox: messages are written in the same transaction as the state they come
from, then published and deleted. A crash between the two leaves them in the table and they are
published on the next relay (consumers dedupe on the message id), so nothing is lost.

Each service's migrations create its table: ``outbox(seq bigserial, topic, key, payload bytea)``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from orderflow_schemas import Message, Topic
from orderflow_schemas.topics import BY_NAME

from .kafka import EventProducer

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Pending:
    """A message in the outbox, waiting to be published."""

    seq: int
    topic: Topic
    key: str | None
    payload: bytes


async def add(conn: asyncpg.Connection,
              items: Sequence[tuple[Topic, str | None, Message]]) -> list[Pending]:
    """Queue messages inside the caller's transaction; ``publish`` them after the commit."""
    if not items:
        return []
    payloads = [m.to_wire() for _, _, m in items]
    seqs = await conn.fetch(
        "INSERT INTO outbox(topic, key, payload) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[]) RETURNING seq",
        [t.name for t, _, _ in items], [k for _, k, _ in items], payloads,
    )
    return [Pending(r["seq"], t, k, p)
            for r, (t, k, _), p in zip(seqs, items, payloads, strict=True)]


async def publish(pool: asyncpg.Pool, producer: EventProducer,
                  pending: Sequence[Pending]) -> None:
    """Produce in sequence order, await the broker, then delete: what a crash interrupts stays in
    the table for ``relay_forever`` (consumers dedupe on the message id)."""
    if not pending:
        return
    by_topic: dict[Topic, list[tuple[str | bytes | None, bytes, None]]] = {}
    for p in pending:
        by_topic.setdefault(p.topic, []).append((p.key, p.payload, None))
    await asyncio.gather(*(producer.send_many(t, msgs) for t, msgs in by_topic.items()))
    await pool.execute("DELETE FROM outbox WHERE seq = ANY($1::bigint[])",
                       [p.seq for p in pending])


async def relay(pool: asyncpg.Pool, producer: EventProducer, limit: int = 5000) -> int:
    """Publish the oldest messages left in the outbox; returns how many."""
    rows = await pool.fetch("SELECT seq, topic, key, payload FROM outbox ORDER BY seq LIMIT $1",
                            limit)
    await publish(pool, producer, [Pending(r["seq"], BY_NAME[r["topic"]], r["key"],
                                           bytes(r["payload"])) for r in rows])
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
