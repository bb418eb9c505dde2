"""Where an order's time goes on its way to its webhook, read off the topics it passes: each
message's timestamp is taken by the producer that wrote it (librdkafka's CreateTime), so the
differences are the stages, each with the broker hop in front of it:

    sent -> inbound        ingest: the HTTP request, its submission row, the produce
    inbound -> event       hop + ingest's processor (order state, customer, outbox)
    event -> request       hop + the trigger engine (decision, firing, outbox)
    request -> webhook     hop + the executor (intake row, claim, the HTTP call)
"""

from __future__ import annotations

import statistics

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from orderflow_runtime.kafka import partitions_of
from orderflow_schemas import Topic
from orderflow_schemas.topics import ACTION_REQUESTS, ORDER_EVENTS, ORDERS_INBOUND


def first_seen(bootstrap: str, topic: Topic, keys: set[str]) -> dict[str, float]:
    """The earliest timestamp (seconds) of a message of ``topic`` per key in ``keys``."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-stages",
                         "enable.auto.commit": False, "enable.partition.eof": True})
    parts = partitions_of(consumer, topic.name)
    consumer.assign([TopicPartition(topic.name, p, OFFSET_BEGINNING) for p in parts])
    found: dict[str, float] = {}
    ended: set[int] = set()
    try:
        while len(ended) < len(parts):
            for m in consumer.consume(1000, 1.0):
                if m.error():
                    ended.add(m.partition())
                    continue
                key = (m.key() or b"").decode()
                if key in keys:
                    at = m.timestamp()[1] / 1000
                    found[key] = min(at, found.get(key, at))
    finally:
        consumer.close()
    return found


def report(bootstrap: str, sent: dict[str, float], delivered: dict[str, float]) -> None:
    keys = set(delivered)
    marks: list[tuple[str, dict[str, float]]] = [("sent", {k: sent[k] for k in keys})]
    for label, topic in (("inbound", ORDERS_INBOUND), ("event", ORDER_EVENTS),
                         ("request", ACTION_REQUESTS)):
        marks.append((label, first_seen(bootstrap, topic, keys)))
    marks.append(("webhook", delivered))
    parts = []
    for (a, at_a), (b, at_b) in zip(marks, marks[1:], strict=False):
        spans = sorted((at_b[k] - at_a[k]) * 1000 for k in keys if k in at_a and k in at_b)
        if spans:
            parts.append(f"{a} -> {b} p50 {statistics.median(spans):.0f} / p99 "
                         f"{spans[min(len(spans) - 1, int(len(spans) * 0.99))]:.0f}")
    print("stages (ms)     : " + "; ".join(parts))
