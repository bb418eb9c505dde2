"""Composition root of ingest: settings, clients and wiring."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from orderflow_runtime import outbox
from orderflow_runtime.ratelimit import RateLimiter
from orderflow_runtime.resources import open_resources
from orderflow_runtime.web import create_app, serve_directly
from orderflow_schemas.topics import ORDER_CHANGES, ORDERS_INBOUND

from . import submissions
from .api import orders
from .config import IngestSettings
from .processor import OrderProcessor

SERVICE = "ingest"
MIGRATIONS = Path(__file__).parent / "migrations"


def build_app(settings: IngestSettings | None = None) -> FastAPI:
    settings = settings or IngestSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(settings, SERVICE, MIGRATIONS) as res:
            app.state.resources = res
            app.state.pool, app.state.producer = res.pool, res.producer
            app.state.submissions = submissions.recorder(res.pool)
            # Batches of 2000: the processor's round trips and its lock cost per batch.
            app.state.consumer = res.consume(
                "order-processor", [ORDERS_INBOUND, ORDER_CHANGES],
                OrderProcessor(res.pool, res.producer, settings.topic_prefix),
                group_id=settings.consumer_group, service=SERVICE, batch_size=2000, hot=True)
            res.spawn(outbox.relay_forever(res.pool, res.producer), "outbox-relay")
            yield

    app = create_app(title="orderflow ingest", api_keys=settings.api_keys, lifespan=lifespan)
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    app.include_router(orders.router)
    serve_directly(app, "POST", "/api/v1/orders", orders.post_orders_directly)
    return app
