"""The outbox against a real broker and database: each row is published by exactly one
publisher, even when the inline publisher and the relay go for the same rows at once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import asyncpg
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from orderflow_runtime import outbox
from orderflow_runtime.db import create_pool
from orderflow_runtime.kafka import EventProducer, ensure_topics, partitions_of
from orderflow_schemas import OrderEvent, OrderStatus
from orderflow_schemas.topics import ORDER_EVENTS

TABLE = """CREATE TABLE outbox (seq bigserial PRIMARY KEY, topic text NOT NULL, key text,
                                 payload bytea NOT NULL)"""


def _event(n: int) -> OrderEvent:
    return OrderEvent(id=str(uuid.uuid4()), name="orderINITIALIZED",
                      external_order_id=f"o-{n}", status=OrderStatus.INITIALIZED,
                      version_tag="v", order={"externalOrderId": f"o-{n}"})


def _ids_on_topic(bootstrap: str, prefix: str) -> Counter[str]:
    import orjson

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "reader",
                         "enable.auto.commit": False})
    name = ORDER_EVENTS.qualified(prefix)
    consumer.assign([TopicPartition(name, p, OFFSET_BEGINNING)
                     for p in partitions_of(consumer, name)])
    found: Counter[str] = Counter()
    try:
        idle = 0
        while idle < 3:
            batch = [m for m in consumer.consume(1000, 1.0) if not m.error()]
            found.update(orjson.loads(m.value())["id"] for m in batch)
            idle = 0 if batch else idle + 1
    finally:
        consumer.close()
    return found


async def test_inline_publisher_and_relay_never_publish_a_row_twice(
        kafka_bootstrap: str, database_url: str, topic_prefix: str) -> None:
    schema = f"outbox_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(database_url)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    await admin.close()
    await asyncio.to_thread(ensure_topics, kafka_bootstrap, [ORDER_EVENTS], topic_prefix)
    pool = await create_pool(database_url, schema)
    producer = EventProducer(kafka_bootstrap, topic_prefix)
    try:
        await pool.execute(TABLE)
        sent = 0
        for round_ in range(5):  # as ingest does: commit a batch, then publish it inline ...
            async with pool.acquire() as conn, conn.transaction():
                pending = await outbox.add(
                    conn, [(ORDER_EVENTS, f"o-{n}", _event(n))
                           for n in range(round_ * 1000, round_ * 1000 + 1000)])
            sent += len(pending)
            # ... while the relay, woken at that moment, finds the same rows.
            await asyncio.gather(outbox.publish(pool, producer, pending),
                                 outbox.relay(pool, producer), outbox.relay(pool, producer))
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await producer.close()
        await pool.close()
    published = await asyncio.to_thread(_ids_on_topic, kafka_bootstrap, topic_prefix)
    assert len(published) == sent
    assert [i for i, n in published.items() if n > 1] == []
