"""Sending many messages with one awaitable: the HTTP intake's hot path.

``EventProducer.send_nowait`` makes one asyncio future per message, and each delivery wakes the
event loop from the poll thread; for a batch of 1000 orders that wake-up traffic costs more than
producing. ``send_many`` counts deliveries in the poll thread and wakes the loop once, when the
broker has every message or the first one failed. Delivery guarantees are the producer's own
(idempotent, acks=all)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from orderflow_schemas import Topic

from .kafka import EventProducer

Outgoing = tuple[str | bytes | None, bytes, dict[str, str | bytes] | None]


async def send_many(producer: EventProducer, topic: Topic, messages: Sequence[Outgoing]) -> None:
    """Produce ``(key, value, headers)`` messages to ``topic``; return when the broker acked
    them all, raise ``KafkaException`` on the first failed delivery."""
    if not messages:
        return
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    lock = threading.Lock()
    left = [len(messages)]

    def finish(err: Exception | None) -> None:
        if done.done():
            return
        if err is None:
            done.set_result(None)
        else:
            done.set_exception(err)

    def delivered(err: KafkaError | None, _msg: Any) -> None:
        with lock:
            left[0] -= 1
            last = left[0] == 0
        if err is not None:
            loop.call_soon_threadsafe(finish, KafkaException(err))
        elif last:
            loop.call_soon_threadsafe(finish, None)

    name = topic.qualified(producer.prefix)
    client = producer._producer  # the same client, so ordering per key is kept
    for key, value, headers in messages:
        while True:
            try:
                client.produce(name, key=key, value=value,
                               headers=list((headers or {}).items()), on_delivery=delivered)
                break
            except BufferError:
                client.poll(0.05)  # local queue full: let deliveries drain
    await done
