"""A transactional outbox: messages are written in the same transaction as the state they come
from, then published and deleted. A crash between the two leaves them in the table and they are
published on the next relay, so nothing is lost.

Exactly one publisher per row: the inline publisher (``publish``, right after the commit) and the
relay (``relay_forever``) both *claim* rows before producing them, by deleting them in a
transaction that stays open until the broker has the messages
(``DELETE ... WHERE seq IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``). A row another
publisher holds is skipped, not waited for; a publisher that fails or dies rolls back and its
rows are back for the relay. Only a crash between the broker's ack and the commit publishes a row
again (consumers dedupe on the message id; read models move forward by sequence).

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


# Claims: the rows deleted here stay locked (and come back on rollback) until the commit.
CLAIM_GIVEN = """
DELETE FROM outbox WHERE seq IN (
    SELECT seq FROM outbox WHERE seq = ANY($1::bigint[]) FOR UPDATE SKIP LOCKED)
RETURNING seq
"""
CLAIM_OLDEST = """
DELETE FROM outbox WHERE seq IN (
    SELECT seq FROM outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
RETURNING seq, topic, key, payload
"""


async def _produce(producer: EventProducer, pending: Sequence[Pending]) -> None:
    """Produce in sequence order and await the broker's acks."""
    by_topic: dict[Topic, list[tuple[str | bytes | None, bytes, None]]] = {}
    for p in sorted(pending, key=lambda p: p.seq):
        by_topic.setdefault(p.topic, []).append((p.key, p.payload, None))
    await asyncio.gather(*(producer.send_many(t, msgs) for t, msgs in by_topic.items()))


async def publish(pool: asyncpg.Pool, producer: EventProducer,
                  pending: Sequence[Pending]) -> None:
    """Publish the rows ``add`` returned, those of them no relay has claimed: claim, produce,
    commit. What a crash or a broker error interrupts stays in the table for ``relay_forever``."""
    if not pending:
        return
    async with pool.acquire() as conn, conn.transaction():
        claimed = {r["seq"] for r in await conn.fetch(CLAIM_GIVEN, [p.seq for p in pending])}
        await _produce(producer, [p for p in pending if p.seq in claimed])


async def relay(pool: asyncpg.Pool, producer: EventProducer, limit: int = 5000) -> int:
    """Claim and publish the oldest messages no one else holds; returns how many."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(CLAIM_OLDEST, limit)
        await _produce(producer, [Pending(r["seq"], BY_NAME[r["topic"]], r["key"],
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
