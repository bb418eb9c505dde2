"""What the executor's paged reads share: the pool as a dependency and opaque keyset cursors
over (a time, an id)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, HTTPException, Request


async def _pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool  # type: ignore[no-any-return]


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
BAD_CURSOR: dict[int | str, dict[str, Any]] = {400: {"description": "bad cursor"}}


def decode_cursor(raw: str) -> tuple[datetime, str]:
    try:
        at, _, key = base64.urlsafe_b64decode(raw.encode()).decode().partition("|")
        return datetime.fromisoformat(at), key
    except ValueError as exc:
        raise HTTPException(400, "cursor is not one this API gave") from exc


def next_cursor(rows: Sequence[Any], limit: int, at: str, key: str) -> str | None:
    """The cursor after a full page (``limit`` rows), by the row's ``at`` and ``key`` columns."""
    if len(rows) < limit:
        return None
    last = rows[-1]
    return base64.urlsafe_b64encode(f"{last[at].isoformat()}|{last[key]}".encode()).decode()
