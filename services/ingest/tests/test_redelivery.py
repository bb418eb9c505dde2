"""The order processor when the inbound records come again (a crash before the offset commit, a
rebalance, a replay): nothing changes and no event is published twice. Real broker and
database; the records are handed to the processor directly, as the consumer loop would."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from orderflow_ingest.bootstrap import MIGRATIONS, SERVICE
from orderflow_ingest.config import IngestSettings
from orderflow_ingest.processor import EVENT_ID_HEADER, OrderProcessor
from orderflow_runtime.kafka import Record, partitions_of
from orderflow_runtime.resources import open_resources
from orderflow_schemas.topics import ORDER_EVENTS, ORDERS_INBOUND


def order(order_id: str, status: str, email: str) -> bytes:
    return orjson.dumps({"externalOrderId": order_id, "totalCost": 10.0, "status": status,
                         "date": "2024-05-01T10:00:00+00:00", "email": email})


async def state(dsn: str, ids: list[str]) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": SERVICE})
    try:
        orders = [dict(r) for r in await conn.fetch(
            "SELECT external_order_id, document::text, version_tag, customer_id, processed_at "
            "FROM orders WHERE external_order_id = ANY($1) ORDER BY 1", ids)]
        customers = await conn.fetchval(
            "SELECT count(DISTINCT customer_id) FROM orders WHERE external_order_id = ANY($1)",
            ids)
        outbox = await conn.fetchval("SELECT count(*) FROM outbox")
        return {"orders": orders, "customers": customers, "outbox": outbox}
    finally:
        await conn.close()


def events(bootstrap: str, prefix: str) -> list[dict[str, Any]]:
    """Every order event on the test's topic, read until the broker has no more, in the order of
    each partition (partitions come in any order, so they are sorted by order id)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "reader",
                         "enable.auto.commit": False})
    name = ORDER_EVENTS.qualified(prefix)
    consumer.assign([TopicPartition(name, p, OFFSET_BEGINNING)
                     for p in partitions_of(consumer, name)])
    found: list[dict[str, Any]] = []
    try:
        idle = 0
        while idle < 2:
            batch = [orjson.loads(m.value()) for m in consumer.consume(500, 1.0) if not m.error()]
            found += batch
            idle = 0 if batch else idle + 1
    finally:
        consumer.close()
    return sorted(found, key=lambda e: e["externalOrderId"])  # stable: keeps partition order


async def test_records_handed_over_again_change_nothing(
        kafka_bootstrap: str, database_url: str, topic_prefix: str) -> None:
    settings = IngestSettings(kafka_bootstrap=kafka_bootstrap, database_url=database_url,
                              topic_prefix=topic_prefix)
    ids = [f"re-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    topic = ORDERS_INBOUND.qualified(topic_prefix)
    values = [order(ids[0], "INITIALIZED", "ann@example.com"),
              order(ids[1], "INITIALIZED", "bob@example.com"),
              order(ids[0], "DELIVERED", "ann@example.com"),
              order(ids[2], "INITIALIZED", "ANN@example.com")]  # Ann again: one customer
    records = [Record(topic, 0, offset, orjson.loads(value)["externalOrderId"].encode(), value,
                      {EVENT_ID_HEADER: str(uuid.uuid4()).encode()})
               for offset, value in enumerate(values)]
    async with open_resources(settings, SERVICE, MIGRATIONS) as res:
        processor = OrderProcessor(res.pool, res.producer)
        await processor(records)
        once = await state(database_url, ids)
        published = await asyncio.to_thread(events, kafka_bootstrap, topic_prefix)

        await processor(records)
        await processor(records[2:])
        await processor(list(reversed(records)))
        assert await state(database_url, ids) == once
        assert await asyncio.to_thread(events, kafka_bootstrap, topic_prefix) == published

    names = {i: [e["name"] for e in published if e["externalOrderId"] == i] for i in ids}
    assert names == {ids[0]: ["orderINITIALIZED", "orderDELIVERED"],
                     ids[1]: ["orderINITIALIZED"], ids[2]: ["orderINITIALIZED"]}
    assert once["customers"] == 2 and once["outbox"] == 0
    assert {e["id"] for e in published} == {r.headers[EVENT_ID_HEADER].decode() for r in records}
    # Each accepted change of an order carries the next number of that order (read models keep
    # the highest); an identical resend makes no event and takes no number.
    sequences = {i: [e["sequence"] for e in published if e["externalOrderId"] == i] for i in ids}
    assert sequences == {ids[0]: [1, 2], ids[1]: [1], ids[2]: [1]}


async def test_sequence_continues_from_the_stored_order(
        kafka_bootstrap: str, database_url: str, topic_prefix: str) -> None:
    settings = IngestSettings(kafka_bootstrap=kafka_bootstrap, database_url=database_url,
                              topic_prefix=topic_prefix)
    order_id = f"seq-{uuid.uuid4().hex[:8]}"
    topic = ORDERS_INBOUND.qualified(topic_prefix)
    versions = [order(order_id, s, "seq@example.com")
                for s in ("INITIALIZED", "INITIALIZED", "IN_PROGRESS", "DELIVERED")]
    records = [Record(topic, 1, offset, order_id.encode(), value,
                      {EVENT_ID_HEADER: str(uuid.uuid4()).encode()})
               for offset, value in enumerate(versions)]
    async with open_resources(settings, SERVICE, MIGRATIONS) as res:
        processor = OrderProcessor(res.pool, res.producer)
        for record in records:  # one batch each: the number comes from the orders table
            await processor([record])
        published = await asyncio.to_thread(events, kafka_bootstrap, topic_prefix)
        stored = await res.pool.fetchval(
            "SELECT sequence FROM orders WHERE external_order_id = $1", order_id)
    assert [(e["name"], e["sequence"]) for e in published] == [
        ("orderINITIALIZED", 1), ("orderIN_PROGRESS", 2), ("orderDELIVERED", 3)]
    assert stored == 3
