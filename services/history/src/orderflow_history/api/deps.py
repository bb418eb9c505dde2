"""Dependencies of the history routes."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Query, Request
from orderflow_runtime.web import IsoDatetime, require_scope


async def _pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool  # type: ignore[no-any-return]


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
CanRead = Depends(require_scope("history.read"))
Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]

__all__ = ["CanRead", "IsoDatetime", "Limit", "Pool"]
