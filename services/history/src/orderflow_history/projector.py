"""The projection consumer: every topic but the inbound ones, into PostgreSQL.

A batch is written in one transaction together with each partition's next offset
(``orderflow_runtime.positions``): a record seen again (a replay, a batch handed over again after
a crash before the offset commit) is skipped. Behind that, timeline rows are keyed by message id,
the orders read model only moves forward (by the order's event sequence number, then partition
offset for events without one) and customers are recomputed
from orders, so a message that comes twice at two offsets changes nothing either.

Rows go in a batch at a time (COPY for the timeline, one ``INSERT ... SELECT FROM
unnest(<column arrays>)`` for orders), never a round trip per row."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, NamedTuple

import asyncpg
import orjson
from orderflow_runtime import positions
from orderflow_runtime.kafka import Record
from orderflow_schemas import DecodeError, Message, OrderEvent
from orderflow_schemas.codec import load, validate
from orderflow_schemas.topics import ALL_TOPICS, COMMENTS, ORDER_CHANGES, ORDERS_INBOUND, Topic

from .projection import OrderRow, TimelineRow, latest_per_order, order_row, timeline_row

# Not the topics into ingest and the executor: orders come in as events (changes too), comments
# as the executor accepted them.
PROJECTED: tuple[Topic, ...] = tuple(t for t in ALL_TOPICS
                                     if t not in (ORDERS_INBOUND, ORDER_CHANGES, COMMENTS))

# Records per consumer batch: per-batch costs (round trips, the commit) are a tenth of the
# projection at 2000 records, half that at 5000 (bench/history_bench.py).
BATCH_SIZE = 5000

TIMELINE_COLUMNS = list(TimelineRow._fields[:-1]) + ["payload"]

# The slow path, for a batch that holds a message already in the timeline (sent twice, at two
# offsets): COPY into a per-connection staging table, then insert what is new.
STAGE_TIMELINE = """
CREATE TEMP TABLE IF NOT EXISTS timeline_in (
    message_id text, external_order_id text, kind text, name text, customer_id text,
    related_id text, occurred_at timestamptz, source text, payload jsonb
) ON COMMIT DELETE ROWS
"""

INSERT_TIMELINE = """
INSERT INTO timeline(message_id, external_order_id, kind, name, customer_id, related_id,
                     occurred_at, source, payload)
SELECT * FROM timeline_in
ON CONFLICT (message_id) DO NOTHING
"""

# Documents go as text[] cast in SQL: a jsonb[] parameter costs five times as much.
UPSERT_ORDERS = """
INSERT INTO orders(external_order_id, document, status, version_tag, customer_id, customer_key,
                   total_cost, ordered_at, updated_at, source_partition, source_offset, sequence)
SELECT id, doc::jsonb, status, tag, customer, ckey, cost, ordered, updated, part, off, seq
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::numeric[], $8::timestamptz[], $9::timestamptz[], $10::int[], $11::bigint[],
            $12::bigint[])
    AS u(id, doc, status, tag, customer, ckey, cost, ordered, updated, part, off, seq)
ON CONFLICT (external_order_id) DO UPDATE SET document = excluded.document,
    status = excluded.status, version_tag = excluded.version_tag,
    customer_id = excluded.customer_id, customer_key = excluded.customer_key,
    total_cost = excluded.total_cost, ordered_at = excluded.ordered_at,
    updated_at = excluded.updated_at, source_partition = excluded.source_partition,
    source_offset = excluded.source_offset, sequence = excluded.sequence
WHERE (orders.sequence, orders.source_partition, orders.source_offset)
    < (excluded.sequence, excluded.source_partition, excluded.source_offset)
"""

OLD_CUSTOMER_KEYS = """
SELECT DISTINCT customer_key FROM orders
WHERE external_order_id = ANY($1::text[]) AND customer_key IS NOT NULL
"""

LOCK_CUSTOMERS = """
SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k ORDER BY k
"""

# Contact preview from the latest order document; figures over DELIVERED orders only. Per
# customer through the (customer_key, ordered_at) index (LATERAL): joined to the batch's keys, the
# planner read the whole orders table twice per batch (a quarter of the database's time under the
# pipeline bench, and growing with the table).
RECOMPUTE_CUSTOMERS = """
WITH touched AS (SELECT DISTINCT unnest($1::text[]) AS customer_key),
agg AS (  -- the figures of each touched customer with orders, and its latest order
    SELECT t.customer_key, f.*, l.document
    FROM touched t
    CROSS JOIN LATERAL (
        SELECT count(*) AS order_count,
               count(*) FILTER (WHERE o.status = 'DELIVERED') AS delivered_count,
               coalesce(sum(o.total_cost) FILTER (WHERE o.status = 'DELIVERED'), 0)
                   AS delivered_sum,
               avg(o.total_cost) FILTER (WHERE o.status = 'DELIVERED') AS average_check,
               min(o.ordered_at) FILTER (WHERE o.status = 'DELIVERED') AS first_delivered_at,
               max(o.ordered_at) FILTER (WHERE o.status = 'DELIVERED') AS last_delivered_at,
               max(o.ordered_at) AS last_order_at
        FROM orders o WHERE o.customer_key = t.customer_key) f
    JOIN LATERAL (  -- none for a customer without orders: then no row, as "gone" deletes it
        SELECT o.document FROM orders o WHERE o.customer_key = t.customer_key
        ORDER BY o.ordered_at DESC, o.updated_at DESC, o.external_order_id DESC LIMIT 1) l
    ON true),
gone AS (
    DELETE FROM customers c USING touched t
    WHERE c.customer_key = t.customer_key
      AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_key = t.customer_key))
INSERT INTO customers
SELECT a.customer_key, a.document->>'externalCustomerId', a.document->>'email',
       a.document->>'phone', a.document->>'firstName', a.document->>'lastName',
       a.order_count, a.delivered_count, a.delivered_sum, a.average_check,
       a.first_delivered_at, a.last_delivered_at, a.last_order_at
FROM agg a
ON CONFLICT (customer_key) DO UPDATE SET
    external_customer_id = excluded.external_customer_id, email = excluded.email,
    phone = excluded.phone, first_name = excluded.first_name, last_name = excluded.last_name,
    order_count = excluded.order_count, delivered_count = excluded.delivered_count,
    delivered_sum = excluded.delivered_sum, average_check = excluded.average_check,
    first_delivered_at = excluded.first_delivered_at,
    last_delivered_at = excluded.last_delivered_at, last_order_at = excluded.last_order_at
"""


class Read(NamedTuple):
    """A record, its message, the message's JSON object (upcast), and its bytes if they are
    the message at its current version."""

    record: Record
    message: Message
    wire: dict[str, Any]
    raw: bytes | None


class Projector:
    """The handler of the projection consumer (and of ``orderflow-history rebuild``)."""

    def __init__(self, pool: asyncpg.Pool, prefix: str = "", lanes: int = 2) -> None:
        """``lanes``: concurrent transactions per batch; two keep both cores busy here, more
        measured no faster (bench/history_bench.py)."""
        self.pool = pool
        self.lanes = lanes
        self._topics = {t.qualified(prefix): t for t in PROJECTED}

    def read(self, record: Record) -> Read:
        topic = self._topics.get(record.topic)
        if topic is None:
            raise DecodeError(f"history does not project topic {record.topic}")
        model = topic.value_model
        wire, current = load(model, record.value)
        message = validate(model, wire)
        assert isinstance(message, Message)
        return Read(record, message, wire, record.value if current else None)

    async def __call__(self, records: Sequence[Record]) -> None:
        """Partitions go in ``lanes`` concurrent transactions, a partition always in one: while
        one lane waits for PostgreSQL, another decodes, and PostgreSQL writes on more than one
        core (a tenth faster than one lane, bench/history_bench.py). A lane that fails cancels the
        others; what committed is skipped when the consumer hands the batch over again, record
        by record (a DecodeError is poison: dead-lettered)."""
        parts = sorted({(r.topic, r.partition) for r in records})
        lane_of = {part: n % self.lanes for n, part in enumerate(parts)}
        lanes: list[list[Record]] = [[] for _ in range(min(self.lanes, len(parts)))]
        for r in records:
            lanes[lane_of[(r.topic, r.partition)]].append(r)
        try:
            async with asyncio.TaskGroup() as group:
                for lane in lanes:
                    group.create_task(self._lane(lane))
        except ExceptionGroup as failed:
            # The consumer tells poison from transient by the exception's type.
            raise failed.exceptions[0] from None

    async def _lane(self, records: list[Record]) -> None:
        await self.project([self.read(r) for r in records])

    async def project(self, reads: Sequence[Read]) -> None:
        """Write what is new in ``reads`` (decoded already) in one transaction."""
        async with self.pool.acquire() as conn, conn.transaction():
            await _write(conn, await positions.unseen(conn, reads, lambda r: r.record))
            await positions.advance(conn, [r.record for r in reads])


async def _write(conn: asyncpg.Connection, reads: Sequence[Read]) -> None:
    timeline = [row for r in reads
                if (row := timeline_row(r.message, r.record.position, r.raw, r.wire))]
    orders = latest_per_order([order_row(r.message, r.record.partition, r.record.offset)
                               for r in reads if isinstance(r.message, OrderEvent)])
    if timeline:
        await _write_timeline(conn, timeline)
    if orders:
        await _write_orders(conn, orders)


async def _write_timeline(conn: asyncpg.Connection, rows: list[TimelineRow]) -> None:
    try:
        async with conn.transaction():  # a savepoint: a duplicate undoes the COPY alone
            await conn.copy_records_to_table("timeline", records=rows, columns=TIMELINE_COLUMNS)
            return
    except asyncpg.UniqueViolationError:
        pass
    await conn.execute(STAGE_TIMELINE)
    await conn.copy_records_to_table("timeline_in", records=rows)
    await conn.execute(INSERT_TIMELINE)


async def _write_orders(conn: asyncpg.Connection, orders: list[OrderRow]) -> None:
    ids = [o.external_order_id for o in orders]
    # An order that moved to another customer must leave the old one's figures too.
    keys = {r["customer_key"] for r in await conn.fetch(OLD_CUSTOMER_KEYS, ids)}
    keys.update(o.customer_key for o in orders if o.customer_key)
    # Replicas share customers across partitions: the one that comes second must recompute
    # after the first has committed, or its figures would miss the first one's orders.
    await conn.execute(LOCK_CUSTOMERS, sorted(keys))
    await conn.execute(UPSERT_ORDERS, ids, [orjson.dumps(o.document).decode() for o in orders],
                       [o.status for o in orders], [o.version_tag for o in orders],
                       [o.customer_id for o in orders], [o.customer_key for o in orders],
                       [o.total_cost for o in orders], [o.ordered_at for o in orders],
                       [o.updated_at for o in orders], [o.source_partition for o in orders],
                       [o.source_offset for o in orders], [o.sequence for o in orders])
    await conn.execute(RECOMPUTE_CUSTOMERS, sorted(keys))
