"""Composition root of the trigger-engine: settings, clients and wiring.

Order events are consumed by the runtime's confluent-kafka group member by default: in
bench/trigger_bench.py, Faust alone consumed the order-events topic at about 10,600 events/s
(aiokafka in the event loop, nothing done) against 1.2 million with confluent-kafka in the same
run, so Faust would spend the issue's whole budget of 10,000 events/s on reading. The Faust agent
stays selectable (``ORDERFLOW_TRIGGER_CONSUMER=faust``); both feed the same handler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from orderflow_runtime.consumer import SafeHandler
from orderflow_runtime.resources import open_resources
from orderflow_runtime.web import create_app
from orderflow_schemas.topics import ORDER_ACTIONS, ORDER_EVENTS

from .api import dry_run, runs, triggers
from .config import TriggerEngineSettings
from .consumers.order_events import OrderEventsHandler
from .scheduler import Scheduler
from .store import outbox
from .store.feed import TriggerFeed
from .store.triggers import TriggerStore
from .stream import build_faust

SERVICE = "trigger-engine"
MIGRATIONS = Path(__file__).parent / "migrations"


def build_app(settings: TriggerEngineSettings | None = None) -> FastAPI:
    settings = settings or TriggerEngineSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(settings, "triggers", MIGRATIONS) as res:
            store = TriggerStore(res.pool, res.producer)
            feed = TriggerFeed(store, settings.trigger_poll_seconds)
            app.state.resources, app.state.store, app.state.feed = res, store, feed
            app.state.min_delay = settings.min_delay
            res.spawn(feed.run(), "trigger-feed")
            await feed.loaded.wait()  # a worker evaluates only once it holds every trigger
            await outbox.relay(res.pool, res.producer)  # what a crash left unpublished
            res.spawn(outbox.tend_forever(res.pool, res.producer), "trigger-outbox")
            handler = OrderEventsHandler(res.pool, res.producer, feed, settings.topic_prefix)
            scheduler = Scheduler(res.pool, res.producer, handler.revisions,
                                  settings.scheduler_batch_size, settings.scheduler_poll_seconds)
            for n in range(settings.scheduler_passes):
                res.spawn(scheduler.run_forever(helper=n > 0), f"trigger-scheduler-{n}")
            if settings.trigger_consumer == "confluent":
                res.consume("order-events", (ORDER_EVENTS, ORDER_ACTIONS), handler,
                            group_id=settings.consumer_group, service=SERVICE,
                            batch_size=settings.trigger_batch_size, hot=True)
                yield
                return
            safe = SafeHandler(handler, res.producer, SERVICE, settings.consumer_group)
            faust_app = build_faust(settings, safe)
            # Faust logs a crashed fetcher and carries on serving nothing: report it.
            res.checks["faust"] = lambda: not (faust_app.crashed or faust_app._fetcher.crashed)
            await faust_app.start()
            try:
                yield
            finally:
                safe.stopping.set()
                await faust_app.stop()

    app = create_app(title="orderflow trigger-engine", api_keys=settings.api_keys,
                     lifespan=lifespan, validation_status=422)
    app.include_router(triggers.router)
    app.include_router(dry_run.router)
    app.include_router(runs.router)
    return app
