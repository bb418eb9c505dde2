"""Trigger-engine benchmark: events per second through one worker, with 10, 1,000 and 10,000
enabled triggers, next to the raw consume rate of the same topic with the same client.

    .venv/bin/python bench/trigger_bench.py [--events 20000] [--counts 10,1000,10000] [--distinct]

Each event is evaluated against 5 triggers listening to it (a ``fieldChange`` of the field the
event changed; the triggers are spread over fields so that every field has 5), with 3
conditions each (a comparison, an any-item condition, and a CEL expression); exactly one of the
5 fires per event (1 in 5), with one HTTP effect. The comparison and the expression are one
of 5 each, as triggers made from templates are (an equal condition is compiled once, whatever
the number of triggers that have it); the item condition is the same in all (an event checks
equal conditions once). ``--distinct``: no two triggers share a comparison or an expression. The
worker is the service's own: the runtime's ``TopicConsumer`` (``--faust``: also the Faust agent
at 1,000 triggers), ``SafeHandler``, ``OrderEventsHandler`` (one PostgreSQL transaction per
batch: positions, decided events, order and customer state, the outbox row), then the firings,
action requests and evaluation records produced and acknowledged by the broker (a batch's while
the next is decided). The time runs from the start of the first batch until the last batch's
records are acknowledged.

Baselines in the same run: the raw consume rate of the same topic with the engine's client (the
runtime's confluent-kafka ``TopicConsumer``, nothing done), and with Faust (``take_events``,
nothing done), the stack's first choice, which the engine left for its reading rate.

A Tansu of its own (``ORDERFLOW_KAFKA_BOOTSTRAP`` to use another broker) and the database
``orderflow_bench`` (``ORDERFLOW_BENCH_DATABASE_URL``), whose ``triggers`` schema is dropped."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import tempfile
import time
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from confluent_kafka import Producer
from loading import ensure_database
from orderflow_runtime.consumer import SafeHandler, TopicConsumer
from orderflow_runtime.db import create_pool, migrate
from orderflow_runtime.kafka import EventProducer, Record, ensure_topics
from orderflow_runtime.serve import tune_gc
from orderflow_schemas import ALL_TOPICS, OrderEvent, OrderStatus
from orderflow_schemas.topics import ORDER_ACTIONS, ORDER_EVENTS
from orderflow_trigger_engine.bootstrap import MIGRATIONS
from orderflow_trigger_engine.config import TriggerEngineSettings
from orderflow_trigger_engine.consumers.order_events import OrderEventsHandler
from orderflow_trigger_engine.store.feed import TriggerFeed
from orderflow_trigger_engine.store.triggers import TriggerStore
from orderflow_trigger_engine.stream import build_faust

DSN = os.environ.get("ORDERFLOW_BENCH_DATABASE_URL",
                     "postgresql://postgres@127.0.0.1:5432/orderflow_bench")
PER_EVENT = 5  # triggers listening to each event


def make_event(i: int, fields: int) -> bytes:
    oid = f"order-{i}"
    doc = {"externalOrderId": oid, "externalCustomerId": f"cust-{i % 5000}",
           "totalCost": 990 + i % 100, "status": "IN_PROGRESS",
           "date": "2026-01-01T10:00:00+00:00", "email": f"c{i % 5000}@example.com",
           "phone": "+380942583691", "currency": "USD", "shipping": 10,
           "items": [{"externalItemId": "200600", "name": "Super Device", "category": "devices",
                      "quantity": 1, "cost": 980 + i % 100, "url": "http://example.com/i/1",
                      "imageUrl": "http://example.com/i/1.png"}]}
    field = f"f{i % fields}"
    doc[field] = "new"
    return OrderEvent(name="orderUPDATED", external_order_id=oid, status=OrderStatus.IN_PROGRESS,
                      previous_status=OrderStatus.IN_PROGRESS, version_tag="v2", sequence=2,
                      changes=[{"field": field, "from": "old", "to": "new"}],  # type: ignore[list-item]
                      order=doc).to_wire()


def trigger_spec(n: int, distinct: bool = False) -> dict[str, Any]:
    group, j = divmod(n, PER_EVENT)
    expression = f"int(order.totalCost) % {PER_EVENT} == {j}"
    if distinct:  # the same outcome, but no two triggers share a comparison or an expression
        expression += f' && order.currency != "X{n}"'
    return {"name": f"bench {n}", "enabled": True,
            "event": {"fieldChange": {"field": f"f{group}"}},
            "conditions": [{"field": "order.totalCost", "op": "gte",
                            "value": j + (n / 1e6 if distinct else 0)},
                           {"field": "order.items.category", "op": "eq", "value": "devices"},
                           {"expression": expression}],
            "effects": [{"type": "http", "url": "http://127.0.0.1:9/{id_order}"}]}


async def fresh_schema(count: int, distinct: bool) -> None:
    pool = await create_pool(DSN, "triggers", 2)
    try:
        await pool.execute('DROP SCHEMA IF EXISTS "triggers" CASCADE')
        await migrate(pool, "triggers", MIGRATIONS)
        specs = [trigger_spec(n, distinct) for n in range(count)]
        ids = [str(uuid.uuid4()) for _ in specs]
        await pool.execute(
            "INSERT INTO triggers(id, name, enabled, spec) SELECT i, s::jsonb->>'name', true, "
            "s::jsonb FROM unnest($1::text[], $2::text[]) AS t(i, s)",
            ids, [orjson.dumps(s).decode() for s in specs])
    finally:
        await pool.close()


class Counting:
    """The handler, timed from the start of the first batch to the end of the last."""

    def __init__(self, inner: Any, total: int) -> None:
        self.inner, self.total, self.seen = inner, total, 0
        self.start = self.end = 0.0
        self.cpu_start = self.cpu_end = 0.0  # the worker process's CPU, all its threads
        self.done = asyncio.Event()

    async def __call__(self, records: Sequence[Record]) -> None:
        if not self.start:
            self.start, self.cpu_start = time.perf_counter(), time.process_time()
        if self.inner is not None:
            await self.inner(records)
        self.seen += len(records)
        if self.seen >= self.total:
            if self.inner is not None:
                await self.inner.drain()  # the last batch's records acked by the broker
            self.end, self.cpu_end = time.perf_counter(), time.process_time()
            self.done.set()


async def run_worker(settings: TriggerEngineSettings, total: int,
                     triggers: int | None) -> tuple[float, float]:
    """Events/s through one worker (the consumer of ``settings.trigger_consumer``), and the CPU
    the worker's process used per event in µs (steadier than the rate on a shared machine);
    ``triggers`` None: consume only (the raw rate of that client)."""
    producer = EventProducer(settings.kafka_bootstrap, settings.topic_prefix)
    pool = await create_pool(DSN, "triggers", 4)
    feed_task = None
    try:
        inner = None
        if triggers is not None:
            feed = TriggerFeed(TriggerStore(pool))
            feed_task = asyncio.create_task(feed.run())
            await feed.loaded.wait()
            assert len(feed.index) == triggers, len(feed.index)
            inner = OrderEventsHandler(pool, producer, feed, settings.topic_prefix)
        counting = Counting(inner, total)
        if settings.trigger_consumer == "faust":
            safe = SafeHandler(counting, producer, "trigger-engine", settings.consumer_group)
            app = build_faust(settings, safe)
            await app.start()
            try:
                await asyncio.wait_for(counting.done.wait(), 600)
            finally:
                await app.stop()
        else:
            consumer = TopicConsumer(
                bootstrap=settings.kafka_bootstrap, group_id=settings.consumer_group,
                topics=[ORDER_EVENTS, ORDER_ACTIONS], handler=counting, producer=producer,
                service="trigger-engine", prefix=settings.topic_prefix,
                batch_size=settings.trigger_batch_size)
            task = asyncio.create_task(consumer.run())
            try:
                await asyncio.wait_for(counting.done.wait(), 600)
            finally:
                consumer.stop()
                await task
        return (total / (counting.end - counting.start),
                (counting.cpu_end - counting.cpu_start) / total * 1e6)
    finally:
        if feed_task is not None:
            feed_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feed_task
        await pool.close()
        await producer.close()


def produce(bootstrap: str, topic: str, total: int, fields: int) -> None:
    raw = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20,
                    "compression.type": "lz4", "enable.idempotence": True})
    for i in range(total):
        raw.produce(topic, key=f"order-{i}", value=make_event(i, fields))
        raw.poll(0)
    raw.flush(60)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--counts", default="10,1000,10000")
    parser.add_argument("--faust", action="store_true",
                        help="also run the 1,000-trigger case through the Faust agent")
    parser.add_argument("--distinct", action="store_true",
                        help="no two triggers share a condition (by default, the comparison and "
                        "the expression are one of 5 each, as triggers made from templates)")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    broker = None
    bootstrap = os.environ.get("ORDERFLOW_KAFKA_BOOTSTRAP")
    if not bootstrap:
        from orderflow_devstack.broker import start_tansu
        broker = start_tansu()
        bootstrap = broker.bootstrap
    try:
        await ensure_database(DSN)
        tune_gc()
        results: dict[str | int, float] = {}
        cpu: dict[str | int, float] = {}
        for n, count in enumerate(counts):
            # A topic of its own per count: its events change the fields its triggers listen
            # to, so that every event has 5 listeners whatever the count.
            prefix = f"bench{secrets.token_hex(3)}."
            ensure_topics(bootstrap, ALL_TOPICS, prefix)
            produce(bootstrap, ORDER_EVENTS.qualified(prefix), args.events,
                    max(1, count // PER_EVENT))
            base: dict[str, Any] = dict(
                kafka_bootstrap=bootstrap, database_url=DSN, topic_prefix=prefix,
                faust_datadir=tempfile.mkdtemp(prefix="bench-faust-"))
            if n == 0:
                print(f"load: {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} cores; "
                      f"{args.events:,} events of ~{len(make_event(0, 1)):,} bytes per run")
                results["raw"], cpu["raw"] = await run_worker(TriggerEngineSettings(
                    **base, consumer_group=f"raw-{secrets.token_hex(3)}"), args.events, None)
                results["faust"], cpu["faust"] = await run_worker(TriggerEngineSettings(
                    **base, consumer_group=f"rawf-{secrets.token_hex(3)}",
                    trigger_consumer="faust"), args.events, None)
                print(f"raw consume, the engine's client (confluent-kafka TopicConsumer, "
                      f"nothing done): {results['raw']:,.0f} events/s")
                print(f"raw consume, Faust (take_events, nothing done): "
                      f"{results['faust']:,.0f} events/s")
            await fresh_schema(count, args.distinct)
            results[count], cpu[count] = await run_worker(TriggerEngineSettings(
                **base, consumer_group=f"w{count}-{secrets.token_hex(3)}"), args.events, count)
            print(f"{count:>6,} triggers: {results[count]:,.0f} events/s "
                  f"(engine/raw consume = {results[count] / results['raw']:.3f}); the worker's "
                  f"CPU {cpu[count]:,.0f} µs per event")
            if args.faust and count == 1000:
                await fresh_schema(count, args.distinct)
                rate, _ = await run_worker(TriggerEngineSettings(
                    **base, consumer_group=f"f{count}-{secrets.token_hex(3)}",
                    trigger_consumer="faust"), args.events, count)
                print(f"{count:>6,} triggers through the Faust agent: {rate:,.0f} events/s")
        if 10 in results and 10_000 in results:
            print(f"10,000 vs 10 triggers: {results[10_000] / results[10]:.2f}")
    finally:
        if broker is not None:
            broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
