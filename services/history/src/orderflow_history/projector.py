"""The projection consumer: every topic but the inbound one, into PostgreSQL.

A batch is written in one transaction; timeline rows are keyed by message id and the orders read
model only moves forward (by offset), so a replay of any topic changes nothing."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from orderflow_runtime.kafka import Record
from orderflow_schemas import DecodeError, Message, OrderEvent, decode
from orderflow_schemas.topics import ALL_TOPICS, ORDERS_INBOUND, Topic

from .projection import timeline_row

PROJECTED: tuple[Topic, ...] = tuple(t for t in ALL_TOPICS if t is not ORDERS_INBOUND)


class Projector:
    def __init__(self, pool: asyncpg.Pool, prefix: str = "") -> None:
        self.pool = pool
        self._topics = {t.qualified(prefix): t for t in PROJECTED}

    def decode(self, record: Record) -> Message:
        topic = self._topics.get(record.topic)
        if topic is None:
            raise DecodeError(f"history does not project topic {record.topic}")
        message = decode(topic.value_model, record.value)
        assert isinstance(message, Message)
        return message

    async def __call__(self, records: Sequence[Record]) -> None:
        decoded = [(r, self.decode(r)) for r in records]  # DecodeError: poison, DLQ
        rows = [row for r, m in decoded if (row := timeline_row(m, r.position)) is not None]
        orders = [(r, m) for r, m in decoded if isinstance(m, OrderEvent)]
        async with self.pool.acquire() as conn, conn.transaction():
            if rows:
                await conn.executemany(
                    "INSERT INTO timeline(message_id, external_order_id, kind, name, customer_id,"
                    " related_id, occurred_at, source, payload)"
                    " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (message_id) DO NOTHING",
                    [row.as_tuple() for row in rows])
            if orders:
                await conn.executemany(
                    """
                    INSERT INTO orders(external_order_id, document, status, version_tag,
                                       customer_id, updated_at, source_partition, source_offset)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    ON CONFLICT (external_order_id) DO UPDATE SET document = excluded.document,
                        status = excluded.status, version_tag = excluded.version_tag,
                        customer_id = excluded.customer_id, updated_at = excluded.updated_at,
                        source_partition = excluded.source_partition,
                        source_offset = excluded.source_offset
                    WHERE (orders.source_partition, orders.source_offset)
                        < (excluded.source_partition, excluded.source_offset)
                    """,
                    [(m.external_order_id, m.order, m.status.value, m.version_tag, m.customer_id,
                      m.occurred_at, r.partition, r.offset) for r, m in orders])
