"""Exactly-once in effect for a consumer that writes to PostgreSQL: the next offset of each
partition is stored in the same transaction as what the records produced, so a record handed over
again (a crash before the Kafka commit, a replay from offset 0, a rebalance) is recognised and
skipped. The table is ``consumer_offsets(topic, partition, next_offset)`` in the service's
schema; each service's migrations create it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import asyncpg

from .kafka import Record

T = TypeVar("T")

_LOCK = """
SELECT o.topic, o.partition, o.next_offset
FROM consumer_offsets o JOIN unnest($1::text[], $2::int[]) AS p(topic, partition)
    USING (topic, partition)
FOR UPDATE OF o
"""

_ADVANCE = """
INSERT INTO consumer_offsets(topic, partition, next_offset)
SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[])
ON CONFLICT (topic, partition) DO UPDATE
SET next_offset = GREATEST(consumer_offsets.next_offset, excluded.next_offset)
"""


async def unseen(conn: asyncpg.Connection, items: Sequence[T],
                 record_of: Callable[[T], Record]) -> list[T]:
    """The items whose record is at or past its partition's stored next offset. Locks those
    partitions' rows until the transaction ends: two consumers of one partition (during a
    rebalance) take turns instead of both writing."""
    parts = sorted({(record_of(i).topic, record_of(i).partition) for i in items})
    rows = await conn.fetch(_LOCK, [t for t, _ in parts], [p for _, p in parts])
    done = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
    return [i for i in items
            if record_of(i).offset >= done.get((record_of(i).topic, record_of(i).partition), 0)]


async def advance(conn: asyncpg.Connection, records: Sequence[Record]) -> None:
    """Store, for each partition in ``records``, the offset after the last one."""
    nxt: dict[tuple[str, int], int] = {}
    for r in records:
        key = (r.topic, r.partition)
        nxt[key] = max(nxt.get(key, 0), r.offset + 1)
    if nxt:
        await conn.execute(_ADVANCE, [t for t, _ in nxt], [p for _, p in nxt], list(nxt.values()))
