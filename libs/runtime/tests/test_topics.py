"""Topics as the services create them on a real broker: the registry's partitions, or the count
``ORDERFLOW_TOPIC_PARTITIONS`` gives; a topic that exists is left as it is, and readers assign
the partitions it has."""

from __future__ import annotations

import secrets

import pytest
from confluent_kafka import Consumer
from orderflow_runtime.kafka import ensure_topics, partitions_of
from orderflow_runtime.settings import CommonSettings
from orderflow_schemas.topics import DLQ, ORDER_EVENTS


def _partitions(bootstrap: str, name: str) -> list[int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused"})
    try:
        return partitions_of(consumer, name)
    finally:
        consumer.close()


def test_topics_get_the_registry_count_or_the_configured_one(
        kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> None:
    registry, configured = f"r{secrets.token_hex(4)}.", f"c{secrets.token_hex(4)}."
    ensure_topics(kafka_bootstrap, [ORDER_EVENTS], registry)
    monkeypatch.setenv("ORDERFLOW_TOPIC_PARTITIONS", "2")
    settings = CommonSettings()
    ensure_topics(kafka_bootstrap, [ORDER_EVENTS, DLQ], configured, settings.topic_partitions)
    # Created before: left as it is, whatever the setting says now.
    ensure_topics(kafka_bootstrap, [ORDER_EVENTS], registry, settings.topic_partitions)
    assert _partitions(kafka_bootstrap, ORDER_EVENTS.qualified(registry)) == list(
        range(ORDER_EVENTS.partitions))
    assert _partitions(kafka_bootstrap, ORDER_EVENTS.qualified(configured)) == [0, 1]
    assert _partitions(kafka_bootstrap, DLQ.qualified(configured)) == [0, 1]
