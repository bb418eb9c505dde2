"""The projection consumer: every topic but the inbound one, into PostgreSQL.

A batch is written in one transaction; timeline rows are keyed by message id, the orders read
model only moves forward (by partition offset) and customers are recomputed from orders, so a
replay of any topic, or a batch handed over again after a crash before the offset commit,
changes nothing.

Rows go in a batch at a time (COPY into a staging table for the timeline, one
``INSERT ... SELECT FROM unnest(<column arrays>)`` for orders), never a round trip per row."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from orderflow_runtime.kafka import Record
from orderflow_schemas import DecodeError, Message, OrderEvent, decode
from orderflow_schemas.topics import ALL_TOPICS, ORDERS_INBOUND, Topic

from .projection import OrderRow, latest_per_order, order_row, timeline_row

PROJECTED: tuple[Topic, ...] = tuple(t for t in ALL_TOPICS if t is not ORDERS_INBOUND)

# Timeline rows are COPYed into a per-connection staging table, then inserted from it: about a
# third faster than one INSERT over unnest() arrays (bench/history_bench.py).
STAGE_TIMELINE = """
CREATE TEMP TABLE IF NOT EXISTS timeline_in (
    message_id text, external_order_id text, kind text, name text, customer_id text,
    related_id text, occurred_at timestamptz, source text, payload text
) ON COMMIT DELETE ROWS
"""

INSERT_TIMELINE = """
INSERT INTO timeline(message_id, external_order_id, kind, name, customer_id, related_id,
                     occurred_at, source, payload)
SELECT message_id, external_order_id, kind, name, customer_id, related_id, occurred_at, source,
       payload::jsonb
FROM timeline_in
ON CONFLICT (message_id) DO NOTHING
"""

UPSERT_ORDERS = """
INSERT INTO orders(external_order_id, document, status, version_tag, customer_id, customer_key,
                   total_cost, ordered_at, updated_at, source_partition, source_offset)
SELECT * FROM unnest($1::text[], $2::jsonb[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::numeric[], $8::timestamptz[], $9::timestamptz[], $10::int[],
                     $11::bigint[])
ON CONFLICT (external_order_id) DO UPDATE SET document = excluded.document,
    status = excluded.status, version_tag = excluded.version_tag,
    customer_id = excluded.customer_id, customer_key = excluded.customer_key,
    total_cost = excluded.total_cost, ordered_at = excluded.ordered_at,
    updated_at = excluded.updated_at, source_partition = excluded.source_partition,
    source_offset = excluded.source_offset
WHERE (orders.source_partition, orders.source_offset)
    < (excluded.source_partition, excluded.source_offset)
"""

OLD_CUSTOMER_KEYS = """
SELECT DISTINCT customer_key FROM orders
WHERE external_order_id = ANY($1::text[]) AND customer_key IS NOT NULL
"""

LOCK_CUSTOMERS = """
SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k ORDER BY k
"""

# Contact preview from the latest order document; figures over DELIVERED orders only.
RECOMPUTE_CUSTOMERS = """
WITH touched AS (SELECT DISTINCT unnest($1::text[]) AS customer_key),
agg AS (
    SELECT o.customer_key, count(*) AS order_count,
           count(*) FILTER (WHERE o.status = 'DELIVERED') AS delivered_count,
           coalesce(sum(o.total_cost) FILTER (WHERE o.status = 'DELIVERED'), 0) AS delivered_sum,
           avg(o.total_cost) FILTER (WHERE o.status = 'DELIVERED') AS average_check,
           min(o.ordered_at) FILTER (WHERE o.status = 'DELIVERED') AS first_delivered_at,
           max(o.ordered_at) FILTER (WHERE o.status = 'DELIVERED') AS last_delivered_at,
           max(o.ordered_at) AS last_order_at
    FROM orders o JOIN touched USING (customer_key) GROUP BY o.customer_key),
latest AS (
    SELECT DISTINCT ON (o.customer_key) o.customer_key, o.document
    FROM orders o JOIN touched USING (customer_key)
    ORDER BY o.customer_key, o.ordered_at DESC, o.updated_at DESC, o.external_order_id DESC),
gone AS (
    DELETE FROM customers c USING touched t
    WHERE c.customer_key = t.customer_key
      AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_key = t.customer_key))
INSERT INTO customers
SELECT a.customer_key, l.document->>'externalCustomerId', l.document->>'email',
       l.document->>'phone', l.document->>'firstName', l.document->>'lastName',
       a.order_count, a.delivered_count, a.delivered_sum, a.average_check,
       a.first_delivered_at, a.last_delivered_at, a.last_order_at
FROM agg a JOIN latest l USING (customer_key)
ON CONFLICT (customer_key) DO UPDATE SET
    external_customer_id = excluded.external_customer_id, email = excluded.email,
    phone = excluded.phone, first_name = excluded.first_name, last_name = excluded.last_name,
    order_count = excluded.order_count, delivered_count = excluded.delivered_count,
    delivered_sum = excluded.delivered_sum, average_check = excluded.average_check,
    first_delivered_at = excluded.first_delivered_at,
    last_delivered_at = excluded.last_delivered_at, last_order_at = excluded.last_order_at
"""


class Projector:
    """The handler of the projection consumer (and of ``orderflow-history rebuild``)."""

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
        # DecodeError here is poison: the consumer isolates the record and dead-letters it.
        await self.project([(r, self.decode(r)) for r in records])

    async def project(self, decoded: Sequence[tuple[Record, Message]]) -> None:
        """Write decoded records in one transaction."""
        timeline = [row for r, m in decoded if (row := timeline_row(m, r.position)) is not None]
        orders = latest_per_order(
            [order_row(m, r.partition, r.offset) for r, m in decoded if isinstance(m, OrderEvent)])
        async with self.pool.acquire() as conn, conn.transaction():
            if timeline:
                await conn.execute(STAGE_TIMELINE)
                await conn.copy_records_to_table(
                    "timeline_in", records=[row.as_tuple() for row in timeline])
                await conn.execute(INSERT_TIMELINE)
            if orders:
                await _write_orders(conn, orders)


async def _write_orders(conn: asyncpg.Connection, orders: list[OrderRow]) -> None:
    ids = [o.external_order_id for o in orders]
    # An order that moved to another customer must leave the old one's figures too.
    keys = {r["customer_key"] for r in await conn.fetch(OLD_CUSTOMER_KEYS, ids)}
    keys.update(o.customer_key for o in orders if o.customer_key)
    # Replicas share customers across partitions: the one that comes second must recompute
    # after the first has committed, or its figures would miss the first one's orders.
    await conn.execute(LOCK_CUSTOMERS, sorted(keys))
    await conn.execute(UPSERT_ORDERS, ids, [o.document for o in orders],
                       [o.status for o in orders], [o.version_tag for o in orders],
                       [o.customer_id for o in orders], [o.customer_key for o in orders],
                       [o.total_cost for o in orders], [o.ordered_at for o in orders],
                       [o.updated_at for o in orders], [o.source_partition for o in orders],
                       [o.source_offset for o in orders])
    await conn.execute(RECOMPUTE_CUSTOMERS, sorted(keys))
