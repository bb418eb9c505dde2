"""Consumers that stop fetching while idle, and the PostgreSQL NOTIFY that wakes them.

The dev broker (Tansu) spends a fixed slice of CPU on every fetch and answers a held fetch after
about half its wait, data or not: the six consumers of an idle platform cost it 7% of a core.
With ``ORDERFLOW_KAFKA_IDLE_AFTER_S`` set, a consumer that has had no records for that long
pauses its partitions (no fetches at all) until a service that produced to one of its topics
says so on the ``orderflow_wake`` channel, or ``ORDERFLOW_KAFKA_IDLE_PEEK_S`` passed: records
from a producer that does not notify (an ERP writing to the inbound topic) wait at most that
long. Kafka holds a fetch until data comes and answers at once, so production leaves it off;
``make run`` turns it on with Tansu."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

import asyncpg

if TYPE_CHECKING:
    from .consumer import TopicConsumer

log = logging.getLogger(__name__)
CHANNEL = "orderflow_wake"


class Wakes:
    """One process's side: its consumers by topic, woken by the NOTIFYs it hears, and the
    NOTIFYs it sends after its producer delivered to a topic (at most one per topic per
    ``throttle`` seconds: a consumer woken by the first stays awake for longer than that)."""

    def __init__(self, pool: asyncpg.Pool, throttle: float) -> None:
        self.pool = pool
        self.throttle = throttle
        self._consumers: dict[str, list[TopicConsumer]] = {}
        self._sent: dict[str, float] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def register(self, consumer: TopicConsumer) -> None:
        for name in consumer.topic_names:
            self._consumers.setdefault(name, []).append(consumer)

    def _wake(self, topic: str) -> None:
        for consumer in self._consumers.get(topic, ()):
            consumer.wake()

    def produced(self, topic: str) -> None:
        """The broker acked messages on ``topic`` (its full name): wake who reads it, here at
        once and in other processes by the NOTIFY."""
        self._wake(topic)
        now = time.monotonic()
        if now - self._sent.get(topic, -self.throttle) < self.throttle:
            return
        self._sent[topic] = now
        task = asyncio.get_running_loop().create_task(self._notify(topic))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _notify(self, topic: str) -> None:
        try:
            await self.pool.execute("SELECT pg_notify($1, $2)", CHANNEL, topic)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            self._sent.pop(topic, None)  # the next delivery tries again
            log.warning("wake notification failed", extra={"topic": topic, "error": repr(exc)})

    def wake_all(self) -> None:
        for consumers in self._consumers.values():
            for consumer in consumers:
                consumer.wake()

    async def listen_forever(self, check_every: float = 30.0) -> None:
        """LISTEN on a connection of the pool's, again after a loss. Every consumer is woken
        when listening (re)starts: a notification may have gone by meanwhile."""
        def notified(_conn: Any, _pid: int, _channel: str, topic: str) -> None:
            self._wake(topic)

        while True:
            try:
                async with self.pool.acquire() as conn:
                    await self._listen(conn, notified, check_every)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("wake listener lost its connection, listening again",
                            extra={"error": repr(exc)})
                self.wake_all()
                await asyncio.sleep(1.0)

    async def _listen(self, conn: asyncpg.Connection, notified: Any, check_every: float) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(CHANNEL, notified)
        try:
            self.wake_all()
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), check_every)
                # Closed by the server (told at once) or gone silently: raises either way.
                await conn.execute("SELECT 1")
        finally:
            if not conn.is_closed():
                with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    await conn.remove_listener(CHANNEL, notified)
