"""One real ingest per test module (consumer group joins take seconds), on the devstack's broker
and database, under a topic prefix of the module's own; tests tell their data apart by unique
order and customer ids."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from fastapi.testclient import TestClient
from orderflow_ingest.bootstrap import build_app
from orderflow_ingest.config import IngestSettings
from orderflow_runtime.kafka import partitions_of
from orderflow_schemas import Topic

WRITER, READER, ALL = "k-writer:orders.write", "k-reader:orders.read", "k-all"
AUTH = {"Authorization": "Bearer k-all"}


class Ingest:
    """A running ingest and what a test needs around it."""

    def __init__(self, client: TestClient, bootstrap: str, prefix: str) -> None:
        self.client, self.bootstrap, self.prefix = client, bootstrap, prefix
        self._producer = Producer({"bootstrap.servers": bootstrap})

    def close(self) -> None:
        """Let go of the broker before the session stops it (no reconnect noise after)."""
        self._producer.flush(10)
        del self._producer

    @staticmethod
    def order(**fields: Any) -> dict[str, Any]:
        """A valid order with a contact; ``fields`` override or add."""
        base: dict[str, Any] = {
            "externalOrderId": f"o-{uuid.uuid4().hex[:10]}", "totalCost": 25.0,
            "status": "INITIALIZED", "date": "2024-05-01T10:00:00+00:00", "currency": "EUR",
            "email": f"{uuid.uuid4().hex[:8]}@example.com", "shipping": 5, "discount": 0,
            "items": [{"externalItemId": "i1", "name": "Mug", "quantity": 2, "cost": 10,
                       "url": "https://shop.example/mug", "imageUrl": "https://shop.example/m.png"}],
        }
        return {**base, **fields}

    def post(self, *orders: dict[str, Any], key: str = "k-all") -> Any:
        return self.client.post("/api/v1/orders", json={"orders": list(orders)},
                                headers={"Authorization": f"Bearer {key}"})

    def processed(self, order_id: str, version_tag: str | None = None,
                  timeout: float = 30) -> dict[str, Any]:
        """Poll GET /orders/{id} until (that version of) the order is processed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = self.client.get(f"/api/v1/orders/{order_id}", headers=AUTH)
            if answer.status_code == 200 and version_tag in (None, answer.json()["versionTag"]):
                return answer.json()  # type: ignore[no-any-return]
            time.sleep(0.1)
        raise AssertionError(f"order {order_id} ({version_tag}) not processed in {timeout} s")

    def produce(self, topic: Topic, key: str, value: bytes) -> None:
        self._producer.produce(topic.qualified(self.prefix), key=key, value=value)
        self._producer.flush(10)

    def read(self, topic: Topic, until: Callable[[list[dict[str, Any]]], bool],
             keep: Callable[[dict[str, Any]], bool] = lambda _: True,
             timeout: float = 30) -> list[dict[str, Any]]:
        """Messages of ``topic`` (from the start, JSON) that ``keep`` selects, read until
        ``until`` holds. Partitions are assigned directly: no group join."""
        name = topic.qualified(self.prefix)
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "reader",
                             "enable.auto.commit": False})
        consumer.assign([TopicPartition(name, p, OFFSET_BEGINNING)
                         for p in partitions_of(consumer, name)])
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        try:
            while not until(found):
                if time.monotonic() > deadline:
                    raise AssertionError(f"timed out on {name}; got {found}")
                for m in consumer.consume(500, 0.2):
                    if not m.error():
                        value = orjson.loads(m.value())
                        if keep(value):
                            found.append(value)
        finally:
            consumer.close()
        return found


@pytest.fixture(scope="module")
def ingest(kafka_bootstrap: str, database_url: str) -> Iterator[Ingest]:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    settings = IngestSettings(kafka_bootstrap=kafka_bootstrap, database_url=database_url,
                              topic_prefix=prefix, api_keys=",".join([WRITER, READER, ALL]))
    with TestClient(build_app(settings)) as client:
        running = Ingest(client, kafka_bootstrap, prefix)
        yield running
        running.close()
