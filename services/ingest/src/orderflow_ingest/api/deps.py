"""Dependencies of the ingest routes."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from orderflow_runtime.kafka import EventProducer
from orderflow_runtime.ratelimit import limited_scope

# async: FastAPI runs a plain ``def`` dependency in a worker thread, a thread hop per request.

async def _pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool  # type: ignore[no-any-return]


async def _producer(request: Request) -> EventProducer:
    return request.app.state.producer  # type: ignore[no-any-return]


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
Producer = Annotated[EventProducer, Depends(_producer)]
# Every route needs a key with the scope (401/403) within its rate limit (429).
may_write = limited_scope("orders.write")
CanWrite = Depends(may_write)
CanRead = Depends(limited_scope("orders.read"))
