"""History benchmark: projection throughput next to raw COPY, and query latency.

    .venv/bin/python bench/history_bench.py [--messages 120000] [--rows 1000000]

1. Projection: a realistic mix (per order: 3 order events, an order action, 2 trigger firings,
   2 effect requests, 2 results, an external action with its user and a comment) as Kafka
   records, through ``Projector`` (decode, map, write) in batches of the consumer's size
   (2000). Then raw ``COPY`` of the same timeline and orders rows into empty copies of the same
   tables (same indexes), in the same run; the ratio is projector rate / COPY rate.
2. Latency: the timeline of one order with 100 entries, and event-history pages, in a timeline
   of ``--rows`` rows (generated server-side), p50/p99 over many runs.

It uses the database ``orderflow_bench`` (created when missing; ORDERFLOW_BENCH_DATABASE_URL
overrides) and drops its ``history`` schema first. No broker is needed: Kafka is not what is
measured here."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
from loading import ensure_database
from orderflow_history.paths import MIGRATIONS, SERVICE
from orderflow_history.projection import latest_per_order, order_row, timeline_row
from orderflow_history.projector import BATCH_SIZE, Projector
from orderflow_runtime.db import create_pool, migrate
from orderflow_runtime.kafka import Record
from orderflow_runtime.serve import tune_gc
from orderflow_schemas import (
    ActionOutcome,
    ActionRequest,
    ActionResult,
    Comment,
    ExternalActionExecution,
    ExternalUser,
    FiringOutcome,
    HttpEffect,
    Message,
    OrderAction,
    OrderEvent,
    OrderStatus,
    TriggerFiring,
    event_name,
)
from orderflow_schemas.topics import (
    ACTION_REQUESTS,
    ACTION_RESULTS,
    COMMENTS_ACCEPTED,
    EXTERNAL_ACTIONS,
    ORDER_ACTIONS,
    ORDER_EVENTS,
    TRIGGER_FIRINGS,
    Topic,
)

DSN = os.environ.get("ORDERFLOW_BENCH_DATABASE_URL",
                     "postgresql://postgres@127.0.0.1:5432/orderflow_bench")
BATCH = BATCH_SIZE  # the consumer's
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def order_story(i: int) -> list[tuple[Topic, Message]]:
    """The messages one order produces, as the other services would send them."""
    oid, cust = f"order-{i}", f"cust-{i % 5000}"
    at = T0 + timedelta(seconds=i)
    doc = {"externalOrderId": oid, "externalCustomerId": cust, "totalCost": 990 + i % 100,
           "date": at.isoformat(), "email": f"{cust}@example.com", "phone": "380942583691",
           "firstName": "John", "lastName": "Smith", "currency": "USD", "shipping": 10,
           "items": [{"externalItemId": "200600", "name": "Super Device", "quantity": 1,
                      "cost": 980 + i % 100, "url": "http://example.com/item/200600",
                      "imageUrl": "http://example.com/item/200600/image.png"}]}
    out: list[tuple[Topic, Message]] = []
    prev = None
    for n, status in enumerate(("INITIALIZED", "IN_PROGRESS", "DELIVERED")):
        ev = OrderEvent(name=event_name(status), external_order_id=oid, customer_id=cust,
                        status=OrderStatus(status), previous_status=prev,
                        version_tag=f"v{n}", order={**doc, "status": status},
                        occurred_at=at + timedelta(minutes=n))
        prev = OrderStatus(status)
        out.append((ORDER_EVENTS, ev))
        if n == 0:
            out.append((ORDER_ACTIONS, OrderAction(action="ConfirmOrder", external_order_id=oid,
                                                   version_tag="v0")))
        if n < 2:
            firing = TriggerFiring(trigger_id="t1", trigger_name="notify", event_id=ev.id,
                                   event_name=ev.name, external_order_id=oid,
                                   outcome=FiringOutcome.FIRED)
            req = ActionRequest(external_order_id=oid, trigger_id="t1", trigger_name="notify",
                                firing_id=firing.id, event_id=ev.id,
                                effect=HttpEffect(url="http://example.com/hook"))
            out += [(TRIGGER_FIRINGS, firing), (ACTION_REQUESTS, req),
                    (ACTION_RESULTS, ActionResult(request_id=req.id, external_order_id=oid,
                                                  trigger_id="t1", effect_type="http", attempt=1,
                                                  outcome=ActionOutcome("succeeded"),
                                                  http_status=200, duration_ms=12.5))]
    out.append((EXTERNAL_ACTIONS, ExternalActionExecution(
        external_order_id=oid, action_id=f"a-{i}", action_type="FORM",
        user=ExternalUser(id="u1", name="Ann"), inputs={"pct": 10})))
    out.append((COMMENTS_ACCEPTED, Comment(external_order_id=oid, text="refunded 10%",
                                  related_action_id=f"a-{i}")))
    return out


def make_records(count: int) -> list[Record]:
    records: list[Record] = []
    offsets: dict[tuple[str, int], int] = {}
    i = 0
    while len(records) < count:
        for topic, m in order_story(i):
            part = i % topic.partitions
            off = offsets.get((topic.name, part), 0)
            offsets[(topic.name, part)] = off + 1
            records.append(Record(topic.name, part, off, f"order-{i}".encode(), m.to_wire()))
        i += 1
    return records[:count]


async def fresh_schema(pool: asyncpg.Pool) -> None:
    await pool.execute(f'DROP SCHEMA IF EXISTS "{SERVICE}" CASCADE')
    await migrate(pool, SERVICE, MIGRATIONS)


async def bench_projection(pool: asyncpg.Pool, count: int) -> None:
    records = make_records(count)
    # The service holds one batch at a time; without the freeze, each garbage collection during
    # the run would walk the whole pre-made input and bill it to the projector. The thresholds
    # are the service's own.
    tune_gc()
    projector = Projector(pool)
    start = time.perf_counter()
    for i in range(0, len(records), BATCH):
        await projector(records[i:i + BATCH])
    projected = time.perf_counter() - start
    rate = len(records) / projected

    # The same rows, already made, through COPY into empty copies of the tables.
    reads = [projector.read(r) for r in records]
    timeline = [row for r in reads
                if (row := timeline_row(r.message, r.record.position, r.raw, r.wire))]
    orders = latest_per_order([order_row(r.message, r.record.partition, r.record.offset)
                               for r in reads if isinstance(r.message, OrderEvent)])
    order_tuples = [(o.external_order_id, orjson.dumps(o.document), o.status,
                     o.version_tag, o.customer_id,
                     o.customer_key, o.total_cost, o.ordered_at, o.updated_at,
                     o.source_partition, o.source_offset) for o in orders]
    # The projector's own kind of connection (same codecs); jsonb goes as JSON made beforehand.
    async with pool.acquire() as conn:
        for t in ("timeline", "orders"):
            await conn.execute(f"DROP TABLE IF EXISTS copy_{t}; "
                               f"CREATE TABLE copy_{t} (LIKE {t} INCLUDING ALL)")
        start = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table(
                "copy_timeline", records=timeline, schema_name=SERVICE,
                columns=["message_id", "external_order_id", "kind", "name", "customer_id",
                         "related_id", "occurred_at", "source", "payload"])
            await conn.copy_records_to_table(
                "copy_orders", records=order_tuples, schema_name=SERVICE,
                columns=["external_order_id", "document", "status", "version_tag",
                         "customer_id", "customer_key", "total_cost", "ordered_at",
                         "updated_at", "source_partition", "source_offset"])
        copied = time.perf_counter() - start
    copy_rate = len(records) / copied
    print(f"projection: {len(records):,} messages in {projected:.2f}s = {rate:,.0f} msgs/s "
          f"(target 30,000)")
    print(f"raw COPY of the same rows ({len(timeline):,} timeline + {len(orders):,} orders): "
          f"{copied:.2f}s = {copy_rate:,.0f} msgs/s; projector/COPY = {rate / copy_rate:.2f}")
    decode_start = time.perf_counter()
    for r in records[:20000]:
        projector.read(r)
    per = (time.perf_counter() - decode_start) / min(20000, len(records))
    print(f"  of which decoding alone: {per * 1e6:.1f} us/msg = {1 / per:,.0f} msgs/s")


async def fill_timeline(pool: asyncpg.Pool, rows: int) -> None:
    """``rows`` timeline rows over rows/10 orders, 1/4 of them order events; 'hot' gets 100."""
    await fresh_schema(pool)
    start = time.perf_counter()
    step = 1_000_000
    for lo in range(0, rows, step):
        await pool.execute(
            """
            INSERT INTO timeline SELECT 'm' || g, 'order-' || (g / 10),
                CASE WHEN g % 4 = 0 THEN 'order_event' ELSE 'trigger_firing' END,
                CASE WHEN g % 8 = 0 THEN 'orderDELIVERED' ELSE 'orderINITIALIZED' END,
                'cust-' || (g % 50000), NULL,
                timestamptz '2026-01-01' + g * interval '1 second', 't/0/' || g,
                jsonb_build_object('versionTag', 'v1', 'status', 'INITIALIZED', 'n', g)
            FROM generate_series($1::bigint, $2::bigint) g
            """, lo, min(lo + step, rows) - 1)
    await pool.execute(
        """
        INSERT INTO timeline SELECT 'hot' || g, 'hot', 'trigger_firing', 'notify', 'c', NULL,
            timestamptz '2026-03-01' + g * interval '1 minute', 'x', '{"outcome": "fired"}'
        FROM generate_series(1, 100) g
        """)
    await pool.execute("VACUUM ANALYZE timeline")
    print(f"timeline filled with {rows + 100:,} rows in {time.perf_counter() - start:.1f}s")


def pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1] * 1000


async def measure(pool: asyncpg.Pool, label: str, sql: str, *args: Any, runs: int = 500) -> None:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await pool.fetch(sql, *args)
        samples.append(time.perf_counter() - start)
    print(f"{label}: p50 {pct(samples, 50):.2f} ms, p99 {pct(samples, 99):.2f} ms")


async def bench_queries(pool: asyncpg.Pool, rows: int) -> None:
    await fill_timeline(pool, rows)
    timeline_sql = """
        SELECT message_id, kind, name, related_id, occurred_at, payload FROM timeline
        WHERE external_order_id = $1
          AND ($2::text[] IS NULL OR kind = ANY($2::text[]))
          AND ($3::timestamptz IS NULL OR (occurred_at, message_id) > ($3, $4))
        ORDER BY occurred_at, message_id LIMIT $5"""
    await measure(pool, "timeline, 100 entries of one order, one page", timeline_sql,
                  "hot", None, None, "", 101)
    await measure(pool, "timeline, second page of 50", timeline_sql, "hot", None,
                  datetime(2026, 3, 1, 0, 50, tzinfo=UTC), "hot50", 51)
    events_sql = """
        SELECT message_id, external_order_id, name, customer_id, occurred_at, payload
        FROM timeline WHERE kind = 'order_event'
          AND ($1::text IS NULL OR name = $1) AND ($2::text IS NULL OR external_order_id = $2)
          AND ($3::text IS NULL OR customer_id = $3)
          AND ($4::timestamptz IS NULL OR occurred_at >= $4)
          AND ($5::timestamptz IS NULL OR occurred_at < $5)
          AND ($6::timestamptz IS NULL OR (occurred_at, message_id) < ($6, $7))
        ORDER BY occurred_at DESC, message_id DESC LIMIT $8"""
    mid = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rows // 2)
    await measure(pool, "event history, first page of 100", events_sql,
                  None, None, None, None, None, None, "", 101)
    await measure(pool, "event history, page of 100 deep in the middle (cursor)", events_sql,
                  None, None, None, None, None, mid, "m", 101)
    await measure(pool, "event history by name, first page", events_sql,
                  "orderDELIVERED", None, None, None, None, None, "", 101)
    await measure(pool, "event history by customer, first page", events_sql,
                  None, None, "cust-123", None, None, None, "", 101)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=120_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-projection", action="store_true")
    parser.add_argument("--skip-queries", action="store_true")
    args = parser.parse_args()
    await ensure_database(DSN)
    pool = await create_pool(DSN, SERVICE, 4)
    try:
        if not args.skip_projection:
            await fresh_schema(pool)
            await bench_projection(pool, args.messages)
        if not args.skip_queries:
            await bench_queries(pool, args.rows)
    finally:
        await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
