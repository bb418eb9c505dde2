"""Reading a topic in tests as a user's consumer would: from the start, partitions assigned (no
group join waited for), filtered, until enough has come."""

from __future__ import annotations

import asyncio
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from orderflow_schemas import Topic


async def read_all(bootstrap: str, topic: Topic, prefix: str, until: Any,
                   keep: Any = lambda v: True, timeout: float = 30) -> list[bytes]:
    """Values of ``topic`` from the start that ``keep`` accepts, until ``until`` holds (``None``:
    all there are after ``timeout`` seconds); the partitions are assigned, not subscribed, so no
    group join is waited for."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused",
                         "enable.auto.commit": False})
    name = topic.qualified(prefix)
    consumer.assign([TopicPartition(name, p, OFFSET_BEGINNING)
                     for p in consumer.list_topics(name, timeout=10).topics[name].partitions])
    values: list[bytes] = []
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while until is None or not until(values):
            if asyncio.get_running_loop().time() > deadline:
                if until is None:
                    break
                raise AssertionError(f"timed out on {topic}; got {values}")
            for m in await asyncio.to_thread(consumer.consume, 100, 0.2):
                value = m.value()
                if not m.error() and value is not None and keep(value):
                    values.append(value)
    finally:
        consumer.close()
    return values
