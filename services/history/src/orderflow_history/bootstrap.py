"""Composition root of history: settings, clients and wiring."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from orderflow_runtime.resources import open_resources
from orderflow_runtime.web import create_app

from .api import customers, events, orders, segments
from .config import HistorySettings
from .paths import MIGRATIONS, SERVICE
from .projector import BATCH_SIZE, PROJECTED, Projector

__all__ = ["MIGRATIONS", "SERVICE", "build_app"]


def build_app(settings: HistorySettings | None = None) -> FastAPI:
    settings = settings or HistorySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(settings, SERVICE, MIGRATIONS) as res:
            app.state.resources = res
            app.state.pool = res.pool
            app.state.consumer = res.consume(
                "projection", PROJECTED, Projector(res.pool, settings.topic_prefix),
                group_id=settings.consumer_group, service=SERVICE, batch_size=BATCH_SIZE)
            yield

    app = create_app(title="orderflow history", api_keys=settings.api_keys, lifespan=lifespan)
    app.include_router(orders.router)
    app.include_router(events.router)
    app.include_router(customers.router)
    app.include_router(segments.router)
    return app
