"""One trigger-engine for a whole test module, on the real broker and database: its own topic
prefix and a fresh ``triggers`` schema; a reader of everything it publishes."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import asyncpg
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from fastapi.testclient import TestClient
from orderflow_runtime.consumer import to_record
from orderflow_runtime.kafka import Record, partitions_of
from orderflow_schemas import Message, Topic
from orderflow_schemas.topics import ACTION_REQUESTS, DLQ, TRIGGER_EVALUATIONS, TRIGGER_FIRINGS
from orderflow_trigger_engine.bootstrap import build_app
from orderflow_trigger_engine.config import TriggerEngineSettings

API_KEY = "engine-test-key"
T = TypeVar("T")
OUTPUTS = (TRIGGER_FIRINGS, ACTION_REQUESTS, TRIGGER_EVALUATIONS, DLQ)


def eventually(check: Callable[[], T | None], timeout: float = 40.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {check}")
        time.sleep(0.1)


class Outputs:
    """Everything the engine published, read from the start of each output topic."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.messages: list[tuple[str, bytes | None, bytes]] = []  # (topic, key, value)
        self._consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"r{prefix}",
                                   "enable.auto.commit": False})
        self._consumer.assign([TopicPartition(t.qualified(prefix), p, OFFSET_BEGINNING)
                               for t in OUTPUTS
                               for p in partitions_of(self._consumer, t.qualified(prefix))])
        self._prefix = prefix
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            for m in self._consumer.consume(500, 0.2):
                if not m.error():
                    self.messages.append((m.topic().removeprefix(self._prefix), m.key(),
                                          m.value()))

    def of(self, topic: Topic, order_id: str) -> list[bytes]:
        return [v for t, k, v in list(self.messages)
                if t == topic.name and k == order_id.encode()]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._consumer.close()


class Engine:
    def __init__(self, client: TestClient, outputs: Outputs, producer: Producer,
                 prefix: str, settings: TriggerEngineSettings) -> None:
        self.client, self.outputs, self.prefix = client, outputs, prefix
        self.settings = settings
        self._producer = producer

    def produce(self, topic: Topic, message: Message | bytes, key: str | None = None) -> None:
        value = message if isinstance(message, bytes) else message.to_wire()
        k = key if key is not None else getattr(message, "external_order_id", None)
        self._producer.produce(topic.qualified(self.prefix), key=k, value=value)
        assert self._producer.flush(10) == 0

    def read_back(self, topic: Topic, key: str) -> list[Record]:
        """The records of ``key`` on one of the engine's input topics, as a worker gets them."""
        consumer = Consumer({"bootstrap.servers": self.settings.kafka_bootstrap,
                             "group.id": f"rb{self.prefix}", "enable.auto.commit": False})
        name = topic.qualified(self.prefix)
        consumer.assign([TopicPartition(name, p, OFFSET_BEGINNING)
                         for p in partitions_of(consumer, name)])
        found: list[Record] = []
        try:
            for _ in range(20):
                msgs = consumer.consume(1000, 0.5)
                found += [to_record(m) for m in msgs if not m.error() and m.key() == key.encode()]
                if found and not msgs:
                    break
        finally:
            consumer.close()
        return found

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        r = self.client.post("/api/v1/triggers", json=body)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]


def _drop_schema(dsn: str) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute('DROP SCHEMA IF EXISTS "triggers" CASCADE')
        finally:
            await conn.close()

    asyncio.run(drop())


@pytest.fixture(scope="module")
def engine(kafka_bootstrap: str, database_url: str) -> Iterator[Engine]:
    _drop_schema(database_url)
    prefix = f"t{secrets.token_hex(6)}."
    settings = TriggerEngineSettings(
        kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=prefix,
        api_keys=API_KEY, consumer_group="engine-test", trigger_batch_size=200,
        min_delay=timedelta(seconds=1), scheduler_poll_seconds=0.1)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True,
                         "linger.ms": 2})
    with TestClient(build_app(settings),
                    headers={"Authorization": f"Bearer {API_KEY}"}) as client:
        outputs = Outputs(kafka_bootstrap, prefix)
        try:
            yield Engine(client, outputs, producer, prefix, settings)
        finally:
            outputs.close()
