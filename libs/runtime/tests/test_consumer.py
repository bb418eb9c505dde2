"""The consumer loop against a real broker: offsets are committed without waiting for the
broker after each batch, and a member that stops hands over where it left off, so that the next
one starts after what was handled (nothing lost, nothing read again)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from orderflow_runtime.consumer import TopicConsumer
from orderflow_runtime.kafka import EventProducer, Record, ensure_topics
from orderflow_schemas.topics import ORDER_EVENTS


async def _read(bootstrap: str, prefix: str, group: str, producer: EventProducer,
                values: list[bytes]) -> list[bytes]:
    """Send ``values``, run a member of ``group`` until it has read as many records, stop it."""
    seen: list[bytes] = []
    enough = asyncio.Event()

    async def handler(records: Sequence[Record]) -> None:
        seen.extend(r.value for r in records)
        if len(seen) >= len(values):
            enough.set()

    consumer = TopicConsumer(bootstrap=bootstrap, group_id=group, topics=[ORDER_EVENTS],
                             handler=handler, producer=producer, service="test", prefix=prefix,
                             batch_size=7, fetch_wait_ms=100)
    task = asyncio.create_task(consumer.run())
    try:
        await producer.send_many(ORDER_EVENTS, [(f"k{i}".encode(), v, None)
                                                for i, v in enumerate(values)])
        await asyncio.wait_for(enough.wait(), 60)
        await asyncio.sleep(0.5)  # anything beyond them would be read by now
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)
    return seen


async def test_a_member_that_stops_hands_over_after_what_it_handled(
        kafka_bootstrap: str, topic_prefix: str) -> None:
    await asyncio.to_thread(ensure_topics, kafka_bootstrap, [ORDER_EVENTS], topic_prefix)
    producer = EventProducer(kafka_bootstrap, topic_prefix)
    group = f"resume-{uuid.uuid4().hex[:6]}"
    try:
        first = [f"first-{i}".encode() for i in range(40)]
        assert sorted(await _read(kafka_bootstrap, topic_prefix, group, producer, first)) == \
            sorted(first)
        then = [f"then-{i}".encode() for i in range(5)]
        assert sorted(await _read(kafka_bootstrap, topic_prefix, group, producer, then)) == \
            sorted(then)  # after the first 40, none of them again
    finally:
        await producer.close()
