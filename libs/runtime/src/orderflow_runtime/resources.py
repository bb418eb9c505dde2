"""The clients every service's composition root builds: topics ensured, a PostgreSQL pool with
the service's migrations applied, an idempotent producer, and background workers that are
cancelled on the way out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from orderflow_schemas import ALL_TOPICS, Topic

from .consumer import Handler, TopicConsumer
from .db import create_pool, migrate
from .kafka import EventProducer, ensure_topics
from .settings import CommonSettings
from .wake import Wakes

log = logging.getLogger(__name__)


@dataclass
class Resources:
    settings: CommonSettings
    pool: asyncpg.Pool
    producer: EventProducer
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    stops: list[Callable[[], None]] = field(default_factory=list)
    checks: dict[str, Callable[[], bool]] = field(default_factory=dict)
    _stoppable: set[str] = field(default_factory=set)
    wakes: Wakes | None = None  # consumers rest while idle (wake.py)

    def problems(self) -> list[str]:
        """What is wrong now: a worker that stopped, or a check that fails."""
        dead = [f"worker {t.get_name()} stopped" for t in self.tasks if t.done()]
        return dead + [f"{name} failing" for name, ok in self.checks.items() if not ok()]

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str,
              stop: Callable[[], None] | None = None) -> asyncio.Task[Any]:
        """Run a worker for the life of the service; if it dies, log it loudly. ``stop`` asks it
        to finish what it holds before it is cancelled (a consumer commits and leaves its group)."""
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(_report)
        self.tasks.append(task)
        if stop is not None:
            self.stops.append(stop)
            self._stoppable.add(name)
        return task

    def consume(self, name: str, topics: Sequence[Topic], handler: Handler, *, group_id: str,
                service: str, batch_size: int = 500, hot: bool = False) -> TopicConsumer:
        """Run a consumer group member on the service's settings as the worker ``name``; ``hot``
        ones are on an order's way to its effects and fetch with the shorter wait."""
        consumer = TopicConsumer(
            bootstrap=self.settings.kafka_bootstrap, group_id=group_id, topics=topics,
            handler=handler, producer=self.producer, service=service,
            prefix=self.settings.topic_prefix,
            session_timeout_ms=self.settings.kafka_session_timeout_ms, batch_size=batch_size,
            fetch_wait_ms=(self.settings.kafka_fetch_wait_hot_ms if hot
                           else self.settings.kafka_fetch_wait_ms),
            idle_after=self.settings.kafka_idle_after_s, idle_peek=self.settings.kafka_idle_peek_s)
        if self.wakes is not None:
            self.wakes.register(consumer)
        self.spawn(consumer.run(), name, stop=consumer.stop)
        return consumer

    async def stop_workers(self, grace: float = 10.0) -> None:
        """Ask the workers that can finish cleanly to do so (within ``grace``), then cancel the
        rest: a relay or poller holds nothing that a cancel would lose."""
        for stop in self.stops:
            stop()
        stoppable = [t for t in self.tasks if t.get_name() in self._stoppable]
        if stoppable:
            await asyncio.wait(stoppable, timeout=grace)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def _report(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("worker stopped", exc_info=task.exception(), extra={"worker": task.get_name()})


@asynccontextmanager
async def open_resources(settings: CommonSettings, schema: str,
                         migrations: Path) -> AsyncIterator[Resources]:
    await asyncio.to_thread(ensure_topics, settings.kafka_bootstrap, ALL_TOPICS,
                            settings.topic_prefix, settings.topic_partitions)
    pool = await create_pool(settings.database_url, schema, settings.db_pool_size)
    await migrate(pool, schema, migrations)
    producer = EventProducer(settings.kafka_bootstrap, settings.topic_prefix)
    res = Resources(settings, pool, producer)
    if settings.kafka_idle_after_s:
        # Every service tells the consumers of what it produced, whether or not it consumes.
        res.wakes = Wakes(pool, settings.kafka_idle_after_s / 2)
        producer.on_produced = res.wakes.produced
        res.spawn(res.wakes.listen_forever(), "wake-listener")
    try:
        yield res
    finally:
        await res.stop_workers()
        await producer.close()
        await pool.close()
