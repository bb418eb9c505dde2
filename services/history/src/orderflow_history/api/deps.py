"""Dependencies of the history routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Query, Request
from orderflow_runtime.web import require_scope
from pydantic import BeforeValidator


def _pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool  # type: ignore[no-any-return]


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
CanRead = Depends(require_scope("history.read"))
Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]


def _iso_only(value: Any) -> Any:
    """OpenAPI says date-time: a bare number (pydantic's Unix time) is refused, not guessed."""
    if isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("expected an ISO 8601 date-time, e.g. 2026-01-01T00:00:00Z")
    return value


# A query date-time in ISO 8601 only.
IsoDatetime = Annotated[datetime, BeforeValidator(_iso_only)]
