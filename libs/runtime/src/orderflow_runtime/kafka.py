"""Kafka for asyncio on top of confluent-kafka: an idempotent producer whose sends can be
awaited, and topic creation from the registry."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from orderflow_schemas import Topic
from orderflow_schemas.base import WireModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    """A consumed message, detached from the client so handlers are testable without Kafka."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes] = field(default_factory=dict)

    @property
    def key_str(self) -> str | None:
        return self.key.decode(errors="replace") if self.key is not None else None

    @property
    def position(self) -> str:
        """A unique id of this record: the idempotency key of projections."""
        return f"{self.topic}/{self.partition}/{self.offset}"


class EventProducer:
    """confluent-kafka Producer with idempotence on (librdkafka leaves it off) and a poll thread
    that resolves asyncio futures on delivery."""

    def __init__(self, bootstrap: str, prefix: str = "", **conf: Any) -> None:
        self.prefix = prefix
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "compression.type": "lz4",
                **conf,
            }
        )
        # Told the full topic name after the broker acked a send (wake.py wakes its readers).
        self.on_produced: Callable[[str], None] | None = None
        self._running = True
        self._thread = threading.Thread(target=self._poll, name="kafka-producer-poll", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        # poll returns as soon as a delivery report is there: the timeout only bounds how late
        # close() is noticed, and every wake-up of an idle service costs CPU.
        while self._running:
            self._producer.poll(1.0)

    def send_nowait(
        self,
        topic: Topic,
        key: str | bytes | None,
        value: WireModel | bytes,
        headers: dict[str, str | bytes] | None = None,
    ) -> asyncio.Future[None]:
        """Queue one message; the future resolves when the broker has it."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()

        def delivered(err: KafkaError | None, _msg: Any) -> None:
            if err is None:
                loop.call_soon_threadsafe(_resolve, fut, None)
            else:
                loop.call_soon_threadsafe(_resolve, fut, KafkaException(err))

        payload = value if isinstance(value, bytes) else value.to_wire()
        self._produce(topic.qualified(self.prefix), key, payload, headers, delivered)
        return fut

    def _produce(self, name: str, key: str | bytes | None, value: bytes,
                 headers: dict[str, str | bytes] | None, on_delivery: Any) -> None:
        while True:
            try:
                self._producer.produce(name, key=key, value=value,
                                       headers=list((headers or {}).items()),
                                       on_delivery=on_delivery)
                return
            except BufferError:
                self._producer.poll(0.05)  # local queue full: let deliveries drain

    async def send_many(
        self, topic: Topic,
        messages: Sequence[tuple[str | bytes | None, bytes, dict[str, str | bytes] | None]],
    ) -> None:
        """Produce ``(key, value, headers)`` messages; return when the broker acked them all,
        raise ``KafkaException`` on the first failed delivery. One future for the batch: waking
        the loop once per delivery costs more than producing for a batch of 1000 orders."""
        if not messages:
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        lock = threading.Lock()
        left = [len(messages)]

        def delivered(err: KafkaError | None, _msg: Any) -> None:
            with lock:
                left[0] -= 1
                last = left[0] == 0
            if err is not None:
                loop.call_soon_threadsafe(_resolve, done, KafkaException(err))
            elif last:
                loop.call_soon_threadsafe(_resolve, done, None)

        name = topic.qualified(self.prefix)
        for key, value, headers in messages:
            self._produce(name, key, value, headers, delivered)
        await done
        if self.on_produced is not None:
            self.on_produced(name)

    async def send(self, topic: Topic, key: str | bytes | None, value: WireModel | bytes,
                   headers: dict[str, str | bytes] | None = None) -> None:
        await self.send_nowait(topic, key, value, headers)
        if self.on_produced is not None:
            self.on_produced(topic.qualified(self.prefix))

    async def flush(self, timeout: float = 10.0) -> None:
        await asyncio.to_thread(self._producer.flush, timeout)

    async def close(self) -> None:
        await self.flush()
        self._running = False
        await asyncio.to_thread(self._thread.join, 2.0)
        # Destroy the client now: one kept alive by a lingering reference goes on reconnecting
        # (and logging it) after the broker is gone.
        del self._producer


def _resolve(fut: asyncio.Future[None], err: Exception | None) -> None:
    if fut.done():
        return
    if err is None:
        fut.set_result(None)
    else:
        fut.set_exception(err)


def ensure_topics(bootstrap: str, topics: Iterable[Topic], prefix: str = "",
                  partitions: int = 0) -> None:
    """Create the topics that do not exist yet, with ``partitions`` each (0: the registry's
    count); existing ones are left as they are."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=10).topics)
    wanted = [
        NewTopic(
            t.qualified(prefix),
            num_partitions=partitions or t.partitions,
            replication_factor=1,
            config={"cleanup.policy": t.cleanup_policy},
        )
        for t in topics
        if t.qualified(prefix) not in existing
    ]
    if not wanted:
        return
    for name, fut in admin.create_topics(wanted, operation_timeout=10).items():
        try:
            fut.result()
            log.info("topic created", extra={"topic": name})
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise


def partitions_of(client: Consumer, name: str) -> list[int]:
    """The partitions ``name`` has on the broker: what a reader assigns, whatever count the
    topic was created with (``ensure_topics``)."""
    return sorted(client.list_topics(name, timeout=10).topics[name].partitions)
