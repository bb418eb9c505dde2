"""The consumer loop every service runs: read a batch, hand it to the handler, commit after
success.

Errors are classified before acting (STYLE.md, 4):

- poison (``DecodeError``, or an error that persists on one record after retries) goes to
  ``orderflow.dlq`` with the reason and the original bytes, and the loop goes on;
- transient (database or broker unavailable) is retried with backoff without committing, so
  nothing is lost.

Handlers must be idempotent: a batch may be handed over again after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from confluent_kafka import Consumer, KafkaException, TopicPartition
from orderflow_schemas import DeadLetter, DecodeError, Topic
from orderflow_schemas.topics import DLQ
from prometheus_client import Counter

from .kafka import EventProducer, Record

log = logging.getLogger(__name__)

Handler = Callable[[Sequence[Record]], Awaitable[None]]

CONSUMED = Counter("orderflow_consumed_total", "Records handled", ["group", "topic"])
DEAD_LETTERED = Counter("orderflow_dead_lettered_total", "Records sent to the DLQ", ["group"])

class RetryBatch(Exception):  # noqa: N818 (a request, not an error)
    """Raised by a handler that has to handle the batch again (what it wrote rolled back)."""


TRANSIENT = (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
             asyncpg.TooManyConnectionsError, asyncpg.InterfaceError, KafkaException,
             asyncio.TimeoutError, RetryBatch)
POISON_ATTEMPTS = 3


class SafeHandler:
    """Runs a handler so that no record is lost and none stops the stream: used by the consumer
    loop below and by Faust agents (Faust acks a message whose agent raised)."""

    def __init__(self, handler: Handler, producer: EventProducer, service: str,
                 group_id: str) -> None:
        self.handler = handler
        self.producer = producer
        self.service = service
        self.group_id = group_id
        self.stopping = asyncio.Event()

    async def handle(self, records: Sequence[Record]) -> None:
        try:
            await self._retrying(records)
        except Exception:
            # Something in the batch will not go through: isolate it record by record.
            for record in records:
                await self._handle_one(record)
            return
        for r in records:
            CONSUMED.labels(self.group_id, r.topic).inc()

    async def _handle_one(self, record: Record) -> None:
        for attempt in range(1, POISON_ATTEMPTS + 1):
            try:
                await self._retrying([record])
                CONSUMED.labels(self.group_id, record.topic).inc()
                return
            except DecodeError as exc:
                await self.dead_letter(record, str(exc))
                return
            except Exception as exc:
                if attempt == POISON_ATTEMPTS:
                    log.exception("giving up on record", extra={"position": record.position})
                    await self.dead_letter(record, f"{type(exc).__name__}: {exc}")
                    return
                await asyncio.sleep(0.2 * attempt)

    async def _retrying(self, records: Sequence[Record]) -> None:
        """Run the handler; transient failures are retried until they pass or we are stopped."""
        delay = 0.2
        while True:
            try:
                await self.handler(records)
                return
            except TRANSIENT as exc:
                if self.stopping.is_set():
                    raise
                log.warning("transient failure, retrying", extra={"error": repr(exc)})
                await asyncio.sleep(delay + random.random() * delay)
                delay = min(delay * 2, 10.0)

    async def dead_letter(self, record: Record, reason: str) -> None:
        DEAD_LETTERED.labels(self.group_id).inc()
        if record.topic.endswith(DLQ.name):
            # A dead letter that cannot be read must not go round the DLQ for ever.
            log.error("unreadable record on the DLQ skipped",
                      extra={"position": record.position, "reason": reason})
            return
        log.warning("dead-lettered", extra={"position": record.position, "reason": reason})
        letter = DeadLetter.of(  # at most MAX_DEAD_LETTER_BYTES of the value
            service=self.service, reason=reason, value=record.value, key=record.key,
            topic=record.topic, partition=record.partition, offset=record.offset,
            external_order_id=record.key_str,
        )
        await self.producer.send(DLQ, record.key, letter)


class TopicConsumer:
    """A consumer group member: batches in, ``SafeHandler`` over them, offsets committed after."""

    def __init__(
        self,
        *,
        bootstrap: str,
        group_id: str,
        topics: Sequence[Topic],
        handler: Handler,
        producer: EventProducer,
        service: str,
        prefix: str = "",
        session_timeout_ms: int = 6000,
        batch_size: int = 500,
        fetch_wait_ms: int = 500,
        idle_after: float = 0.0,
        idle_peek: float = 2.0,
    ) -> None:
        group_id = f"{prefix}{group_id}"  # a prefix (a test) of its own is a group of its own
        self.safe = SafeHandler(handler, producer, service, group_id)
        self.batch_size = batch_size
        self.topic_names = [t.qualified(prefix) for t in topics]
        # Resting (wake.py): after ``idle_after`` s without records (0: never), no fetches
        # until ``wake()`` or ``idle_peek`` s passed; a peek fetches once, then rests again.
        self.idle_after, self.idle_peek = idle_after, idle_peek
        self._peek_timeout = 1.5 * fetch_wait_ms / 1000 + 0.1
        self._woken = asyncio.Event()
        self.resting = False  # no fetches now (wake.py)
        self._conf = {
            "bootstrap.servers": bootstrap,
            "group.id": group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": session_timeout_ms,
            "heartbeat.interval.ms": max(500, session_timeout_ms // 4),
            "max.poll.interval.ms": max(60000, session_timeout_ms),
            "fetch.wait.max.ms": fetch_wait_ms,
            "on_commit": _committed,
        }
        self.assigned = asyncio.Event()

    def stop(self) -> None:
        self.safe.stopping.set()

    async def run(self) -> None:
        consumer = Consumer(self._conf)
        consumer.subscribe(self.topic_names, on_assign=lambda c, parts: self.assigned.set())
        quiet_since, peeking = time.monotonic(), False
        try:
            while not self.safe.stopping.is_set():
                self._woken.clear()  # a wake from here on is kept for _rest
                msgs = await asyncio.to_thread(
                    self._next_batch, consumer, self._peek_timeout if peeking else 1.0)
                records = [to_record(m) for m in msgs if not _failed(m)]
                if not records:
                    if self.idle_after and (
                            peeking or time.monotonic() - quiet_since >= self.idle_after):
                        peeking = await self._rest(consumer)
                        if not peeking:
                            quiet_since = time.monotonic()
                    continue
                peeking = False
                await self.safe.handle(records)
                # Not waited for: handlers are idempotent (what a crash hands over again is
                # recognised), so a commit only says where to resume, and waiting for the
                # broker's answer was 5-10% of each hop's cycle on an order's way.
                consumer.commit(offsets=_next_offsets(records), asynchronous=True)
                quiet_since = time.monotonic()
        finally:
            await asyncio.to_thread(consumer.close)

    def wake(self) -> None:
        """Records came for this consumer's topics: fetch again if resting."""
        self._woken.set()

    async def _rest(self, consumer: Consumer) -> bool:
        """Stop fetching until woken (False: stay awake) or ``idle_peek`` passed (True: peek
        once). librdkafka sends heartbeats on its own thread meanwhile, and a rebalance waits
        for the next fetch, at most ``idle_peek`` away."""
        parts = consumer.assignment()
        if self._woken.is_set() or not parts:
            return False
        consumer.pause(parts)
        self.resting = True
        waits = [asyncio.ensure_future(self._woken.wait()),
                 asyncio.ensure_future(self.safe.stopping.wait())]
        try:
            await asyncio.wait(waits, timeout=self.idle_peek,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
            with contextlib.suppress(KafkaException):
                consumer.resume(parts)
            self.resting = False
        # librdkafka's broker thread notices a resume only when it next wakes, up to a second
        # later (measured); a metadata request wakes it now, and the fetch follows within ms.
        await asyncio.to_thread(self._nudge, consumer)
        return not self._woken.is_set()

    def _nudge(self, consumer: Consumer) -> None:
        with contextlib.suppress(KafkaException):
            consumer.list_topics(self.topic_names[0], timeout=1.0)

    def _next_batch(self, consumer: Consumer, timeout: float = 1.0) -> list[Any]:
        # consume(n, timeout) waits for n messages or the timeout: under light load every
        # record would wait the whole timeout. Wait for the first one only, then take what the
        # client has fetched already.
        # A second: consume returns as soon as a record is there; the timeout only bounds how
        # late stop() is noticed.
        first: list[Any] = consumer.consume(1, timeout)
        if not first or self.batch_size == 1:
            return first
        return first + consumer.consume(self.batch_size - 1, 0)


def to_record(m: Any) -> Record:
    return Record(m.topic(), m.partition(), m.offset(), m.key(), m.value(),
                  dict(m.headers() or []))


def _failed(m: Any) -> bool:
    if m.error():
        log.warning("consume error", extra={"error": str(m.error())})
        return True
    return False


def _committed(error: Any, partitions: list[TopicPartition]) -> None:
    """librdkafka's answer to an offset commit (called from ``consume``): a failed one is
    logged, and the records after the last commit that went through are handed over again."""
    if error is not None:
        log.warning("offset commit failed", extra={"error": str(error)})


def _next_offsets(records: Sequence[Record]) -> list[TopicPartition]:
    last: dict[tuple[str, int], int] = {}
    for r in records:
        last[(r.topic, r.partition)] = max(r.offset, last.get((r.topic, r.partition), -1))
    return [TopicPartition(t, p, o + 1) for (t, p), o in last.items()]
