"""Fixtures of history's integration tests: a history app on the real broker and database,
with topics of the test's own prefix and the history schema dropped before each test (the
tests share one database)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import asyncpg
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from fastapi.testclient import TestClient
from orderflow_history.bootstrap import build_app
from orderflow_history.config import HistorySettings
from orderflow_history.paths import SERVICE
from orderflow_runtime.consumer import to_record
from orderflow_runtime.kafka import Record
from orderflow_schemas import Message, Topic

API_KEY = "history-test-key"
T = TypeVar("T")


def _drop_schema(dsn: str) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{SERVICE}" CASCADE')
        finally:
            await conn.close()

    asyncio.run(drop())


@pytest.fixture
def settings(kafka_bootstrap: str, database_url: str, topic_prefix: str) -> HistorySettings:
    _drop_schema(database_url)
    return HistorySettings(kafka_bootstrap=kafka_bootstrap, database_url=database_url,
                           topic_prefix=topic_prefix, api_keys=API_KEY,
                           consumer_group="history-test")


@pytest.fixture
def client(settings: HistorySettings) -> Iterator[TestClient]:
    """The app with its lifespan running: migrations applied, the projection consuming."""
    with TestClient(build_app(settings), headers={"Authorization": f"Bearer {API_KEY}"}) as c:
        yield c


class Produce:
    """Sends messages to the test's topics and waits until the broker has them."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.prefix = prefix
        self.producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                                  "linger.ms": 5})

    def __call__(self, topic: Topic, *messages: Message | bytes, key: str | None = None) -> None:
        for m in messages:
            value = m if isinstance(m, bytes) else m.to_wire()
            k = key if key is not None else getattr(m, "external_order_id", None)
            self.producer.produce(topic.qualified(self.prefix), key=k, value=value)
        assert self.producer.flush(10) == 0


@pytest.fixture
def produce(kafka_bootstrap: str, topic_prefix: str) -> Produce:
    return Produce(kafka_bootstrap, topic_prefix)


def eventually(check: Callable[[], T | None], timeout: float = 30.0) -> T:
    """Poll ``check`` until it returns something truthy (the projection is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)


def read_records(settings: HistorySettings, topics: tuple[Topic, ...]) -> list[Record]:
    """Every record of the test's ``topics`` from offset 0, read until the broker has no more
    (Tansu's high watermarks count batches, not records, so they cannot tell the end)."""
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": "reader",
                         "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(timeout=10)
        names = [t.qualified(settings.topic_prefix) for t in topics]
        consumer.assign([TopicPartition(n, p, 0) for n in names if n in metadata.topics
                         for p in metadata.topics[n].partitions])
        records: list[Record] = []
        idle = 0
        while idle < 2:
            batch = [to_record(m) for m in consumer.consume(1000, 1.0) if not m.error()]
            records += batch
            idle = 0 if batch else idle + 1
        return records
    finally:
        consumer.close()


def caught_up(settings: HistorySettings, topics: tuple[Topic, ...]) -> bool:
    """True once the projection group has committed every record of ``topics``."""
    ends: dict[tuple[str, int], int] = {}
    for r in read_records(settings, topics):
        ends[(r.topic, r.partition)] = max(ends.get((r.topic, r.partition), 0), r.offset + 1)
    group = f"{settings.topic_prefix}{settings.consumer_group}"
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": group,
                         "enable.auto.commit": False})
    try:
        committed = consumer.committed([TopicPartition(t, p) for t, p in ends], timeout=10)
        return all(tp.offset >= ends[(tp.topic, tp.partition)] for tp in committed)
    finally:
        consumer.close()


def dump_tables(dsn: str) -> dict[str, list[dict[str, Any]]]:
    """Every history read model's rows, in a stable order."""

    async def dump() -> dict[str, list[dict[str, Any]]]:
        conn = await asyncpg.connect(dsn, server_settings={"search_path": SERVICE})
        try:
            return {t: [dict(r) for r in await conn.fetch(f"SELECT * FROM {t} ORDER BY 1")]
                    for t in ("timeline", "orders", "customers")}
        finally:
            await conn.close()

    return asyncio.run(dump())
