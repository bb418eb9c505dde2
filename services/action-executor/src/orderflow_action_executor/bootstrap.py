"""Composition root of the action-executor: settings, clients and wiring."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from fastapi import FastAPI
from orderflow_runtime import outbox
from orderflow_runtime.resources import open_resources
from orderflow_runtime.web import create_app
from orderflow_schemas.topics import ACTION_REQUESTS, COMMENTS, ORDER_EVENTS

from .api import action_templates, dead, endpoints, external_actions, tasks
from .config import ExecutorSettings
from .egress import GuardedResolver, parse_allowed
from .external_actions.comments import CommentIntake
from .external_actions.orders import KnownOrders
from .intake import RequestIntake
from .worker import Worker

SERVICE = "action-executor"
MIGRATIONS = Path(__file__).parent / "migrations"


def build_app(settings: ExecutorSettings | None = None) -> FastAPI:
    settings = settings or ExecutorSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A connection per effect in flight: aiohttp's default of 100 in all held the
        # executor's 200 slots to 100 requests at a time (bench/executor_bench.py).
        connector = aiohttp.TCPConnector(
            limit=settings.concurrency, limit_per_host=0,
            resolver=GuardedResolver(parse_allowed(settings.allowed_hosts)))
        async with open_resources(settings, "executor", MIGRATIONS) as res, \
                aiohttp.ClientSession(connector=connector) as session:
            app.state.resources = res
            app.state.pool = res.pool
            worker = Worker(settings, res.pool, res.producer, session)
            app.state.worker = worker
            app.state.endpoints = worker.endpoints
            res.consume("request-intake", [ACTION_REQUESTS], RequestIntake(res.pool, worker.wake),
                        group_id=settings.consumer_group, service=SERVICE, hot=True)
            app.state.actions = actions = worker.actions
            # Groups of their own: each reads its topic from the start, at its own pace.
            res.consume("known-orders", [ORDER_EVENTS], KnownOrders(res.pool),
                        group_id=f"{settings.consumer_group}-orders", service=SERVICE,
                        batch_size=2000)
            res.consume("comment-intake", [COMMENTS], CommentIntake(actions),
                        group_id=f"{settings.consumer_group}-comments", service=SERVICE)
            # Not stoppable: it records what the worker's last attempts did while it drains.
            res.spawn(worker.recorder.run(), "attempt-recorder")
            res.spawn(worker.run(), "effect-worker", stop=worker.stop)
            res.spawn(worker.listen_forever(settings.database_url), "request-listener")
            res.spawn(outbox.relay_forever(res.pool, res.producer), "outbox-relay")
            yield
            await res.stop_workers()

    app = create_app(title="orderflow action-executor", api_keys=settings.api_keys,
                     lifespan=lifespan, validation_status=422)
    app.state.settings = settings
    app.include_router(endpoints.router)
    app.include_router(dead.router)
    app.include_router(external_actions.router)
    app.include_router(action_templates.router)
    app.include_router(tasks.router)
    return app
