"""Resting consumers against a real broker and database: an idle consumer stops fetching, a
record produced by a service wakes it at once (PostgreSQL NOTIFY from another process's
producer, again after the listening connection was killed), and one from a producer that does
not notify is read at the next peek."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence

import asyncpg
from confluent_kafka import Producer
from orderflow_runtime.consumer import TopicConsumer
from orderflow_runtime.db import create_pool
from orderflow_runtime.kafka import EventProducer, Record, ensure_topics
from orderflow_runtime.wake import CHANNEL, Wakes
from orderflow_schemas.topics import ORDER_EVENTS

PEEK = 4.0
LISTENING = f"query = 'LISTEN \"{CHANNEL}\"'"  # the wake listener's connection


async def _rested(consumer: TopicConsumer, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not consumer.resting:
        assert time.monotonic() < deadline, "the consumer never rested"
        await asyncio.sleep(0.05)


async def _read_within(arrived: dict[bytes, float], value: bytes, since: float, within: float,
                       why: str, poll: float = 0.01) -> None:
    while value not in arrived:
        assert time.monotonic() - since < within, why
        await asyncio.sleep(poll)


async def _woken_by_notify(consumer: TopicConsumer, producer: EventProducer,
                           arrived: dict[bytes, float], value: bytes, why: str) -> None:
    """``value`` sent by the other process once ``consumer`` rests is read before a peek."""
    await _rested(consumer)
    await asyncio.sleep(0.5)
    sent = time.monotonic()
    await producer.send_many(ORDER_EVENTS, [(b"k", value, None)])
    await _read_within(arrived, value, sent, PEEK - 1, why)


async def test_a_resting_consumer_is_woken_by_a_producer_elsewhere_or_peeks(
        kafka_bootstrap: str, database_url: str, topic_prefix: str) -> None:
    await asyncio.to_thread(ensure_topics, kafka_bootstrap, [ORDER_EVENTS], topic_prefix)
    name = ORDER_EVENTS.qualified(topic_prefix)
    pool_a = await create_pool(database_url, "public", 2)
    pool_b = await create_pool(database_url, "public", 2)
    # Process A reads; process B only produces: a wake can reach A only through PostgreSQL.
    producer_a = EventProducer(kafka_bootstrap, topic_prefix)
    producer_b = EventProducer(kafka_bootstrap, topic_prefix)
    wakes_a, wakes_b = Wakes(pool_a, throttle=0.2), Wakes(pool_b, throttle=0.2)
    producer_b.on_produced = wakes_b.produced
    arrived: dict[bytes, float] = {}

    async def handler(records: Sequence[Record]) -> None:
        for r in records:
            arrived[r.value] = time.monotonic()

    consumer = TopicConsumer(bootstrap=kafka_bootstrap, group_id=f"wake-{uuid.uuid4().hex[:6]}",
                             topics=[ORDER_EVENTS], handler=handler, producer=producer_a,
                             service="test", prefix=topic_prefix, fetch_wait_ms=100,
                             idle_after=0.5, idle_peek=PEEK)
    wakes_a.register(consumer)
    tasks = [asyncio.create_task(consumer.run()), asyncio.create_task(wakes_a.listen_forever())]
    try:
        await producer_b.send_many(ORDER_EVENTS, [(b"k", b"first", None)])
        while b"first" not in arrived:  # joined the group and read it
            await asyncio.sleep(0.05)

        await _woken_by_notify(consumer, producer_b, arrived, b"notified",
                               "woken only by the peek, not the NOTIFY")

        # The listening connection is killed: A listens again, and a NOTIFY reaches it again.
        admin = await asyncpg.connect(database_url)
        try:
            killed = await admin.fetchval(
                f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {LISTENING}")
            assert killed >= 1
            deadline = time.monotonic() + 10
            while not await admin.fetchval(
                    f"SELECT count(*) FROM pg_stat_activity WHERE {LISTENING}"):
                assert time.monotonic() < deadline, "the listener never came back"
                await asyncio.sleep(0.1)
        finally:
            await admin.close()
        await _woken_by_notify(consumer, producer_b, arrived, b"after-loss",
                               "the NOTIFY was lost with the connection")

        await _rested(consumer)
        raw = Producer({"bootstrap.servers": kafka_bootstrap})
        raw.produce(name, key=b"k", value=b"silent")
        raw.flush(10)
        await _read_within(arrived, b"silent", time.monotonic(), PEEK + 3,
                           "a record nobody announced was never read", poll=0.05)
    finally:
        consumer.stop()
        tasks[1].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer_a.close()
        await producer_b.close()
        await pool_a.close()
        await pool_b.close()
