"""``/api/v1/dead-requests``: requests whose attempts ran out (or that could not be performed),
and their re-drive. A re-driven request keeps its id, so its ``webhook-id`` and
``Idempotency-Key`` stay the same, and starts the retry schedule again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from orderflow_runtime.web import IsoDatetime, require_scope

from ..intake import announce
from .paging import BAD_CURSOR, Pool, decode_cursor, next_cursor

router = APIRouter(tags=["dead requests"])
CanRead = Depends(require_scope("endpoints.read"))
CanWrite = Depends(require_scope("endpoints.write"))

DEAD = """
SELECT request_id, external_order_id, endpoint_id, attempts, last_error, dead_at,
       payload->>'triggerId' AS trigger_id, payload->'effect'->>'type' AS effect_type
FROM requests
WHERE state = 'dead'
  AND ($1::text IS NULL OR endpoint_id = $1) AND ($2::text IS NULL OR payload->>'triggerId' = $2)
  AND ($3::text IS NULL OR external_order_id = $3)
  AND ($4::timestamptz IS NULL OR dead_at >= $4) AND ($5::timestamptz IS NULL OR dead_at < $5)
  AND ($6::timestamptz IS NULL OR (dead_at, request_id) < ($6, $7))
ORDER BY dead_at DESC, request_id DESC LIMIT $8
"""

REDRIVE = """
UPDATE requests SET state = 'pending', attempt_base = attempts, next_attempt_at = now(),
    dead_at = NULL, last_error = NULL, lease_until = NULL, updated_at = now()
WHERE state = 'dead' AND {where} RETURNING request_id
"""


@router.get("/api/v1/dead-requests", dependencies=[CanRead], responses=BAD_CURSOR)
async def dead_requests(
    pool: Pool,
    endpoint: Annotated[str | None, Query(max_length=200)] = None,
    trigger: Annotated[str | None, Query(max_length=200)] = None,
    order: Annotated[str | None, Query(max_length=200)] = None,
    since: IsoDatetime | None = None,
    until: IsoDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    """Newest first, filtered by endpoint, trigger, order and the time they died."""
    after = decode_cursor(cursor) if cursor else None
    rows = await pool.fetch(DEAD, endpoint, trigger, order, since, until,
                            after[0] if after else None, after[1] if after else "", limit)
    return {"deadRequests": [
        {"requestId": r["request_id"], "externalOrderId": r["external_order_id"],
         "triggerId": r["trigger_id"], "effectType": r["effect_type"],
         "endpointId": r["endpoint_id"], "attempts": r["attempts"], "lastError": r["last_error"],
         "deadAt": r["dead_at"].isoformat() if r["dead_at"] else None} for r in rows],
        "nextCursor": next_cursor(rows, limit, "dead_at", "request_id")}


@router.post("/api/v1/dead-requests/{request_id}/redrive", status_code=202,
             dependencies=[CanWrite], responses={404: {"description": "no such dead request"}})
async def redrive_one(request_id: str, request: Request, pool: Pool) -> dict[str, Any]:
    done = await pool.fetch(REDRIVE.format(where="request_id = $1"), request_id)
    if not done:
        raise HTTPException(404, "no dead request with this id")
    await announce(pool)
    request.app.state.worker.wake()
    return {"redriven": [r["request_id"] for r in done]}


@router.post("/api/v1/endpoints/{endpoint_id}/redrive", status_code=202,
             dependencies=[CanWrite], tags=["endpoints"],
             responses={404: {"description": "endpoint not found"}})
async def redrive_endpoint(endpoint_id: str, request: Request, pool: Pool) -> dict[str, Any]:
    """Every dead request of the endpoint is attempted again."""
    if not await pool.fetchval("SELECT true FROM endpoints WHERE id = $1", endpoint_id):
        raise HTTPException(404, "endpoint not found")
    done = await pool.fetch(REDRIVE.format(where="endpoint_id = $1"), endpoint_id)
    await announce(pool)
    request.app.state.worker.wake()
    return {"redriven": [r["request_id"] for r in done]}
