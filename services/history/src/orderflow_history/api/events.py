"""``/api/v1/events``: the event history, newest first (seed 004's Automation > Event history)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from ..projection import shown
from .deps import CanRead, IsoDatetime, Limit, Pool
from .paging import decode_cursor, next_cursor

router = APIRouter(prefix="/api/v1/events", tags=["events"], dependencies=[CanRead])


@router.get("")
async def list_events(
    pool: Pool,
    limit: Limit = 100,
    cursor: str | None = None,
    name: str | None = None,
    order: str | None = None,
    customer: str | None = None,
    since: IsoDatetime | None = None,
    until: IsoDatetime | None = None,
    kind: Literal["order_event", "dead_letter"] = "order_event",
) -> dict[str, Any]:
    """Order events filtered by name, order, customer and time range [since, until);
    ``kind=dead_letter``: the DLQ entries instead (``name`` is the service that wrote them)."""
    before = decode_cursor(cursor) if cursor else None
    rows = await pool.fetch(
        """
        SELECT message_id, external_order_id, name, customer_id, occurred_at, payload
        FROM timeline
        WHERE kind = $9
          AND ($1::text IS NULL OR name = $1)
          AND ($2::text IS NULL OR external_order_id = $2)
          AND ($3::text IS NULL OR customer_id = $3)
          AND ($4::timestamptz IS NULL OR occurred_at >= $4)
          AND ($5::timestamptz IS NULL OR occurred_at < $5)
          AND ($6::timestamptz IS NULL OR (occurred_at, message_id) < ($6, $7))
        ORDER BY occurred_at DESC, message_id DESC LIMIT $8
        """,
        name, order, customer, since, until, before[0] if before else None,
        before[1] if before else "", limit + 1, kind)
    page = rows[:limit]
    nxt = next_cursor(rows, limit)
    return {
        "events": [{"id": r["message_id"], "name": r["name"],
                    "externalOrderId": r["external_order_id"], "customerId": r["customer_id"],
                    "occurredAt": r["occurred_at"].isoformat(),
                    "data": shown(r["payload"])} for r in page],
        "nextCursor": nxt,
    }


@router.get("/firing-counts", summary="Trigger firings per trigger since a time")
async def firing_counts(pool: Pool, since: IsoDatetime) -> dict[str, Any]:
    """How many times each trigger fired since ``since`` (the console's trigger list)."""
    rows = await pool.fetch(
        "SELECT payload->>'triggerId' AS trigger_id, count(*) AS fired FROM timeline "
        "WHERE kind = 'trigger_firing' AND occurred_at >= $1 AND payload->>'outcome' = 'fired' "
        "GROUP BY 1", since)
    return {"since": since.isoformat(), "counts": {r["trigger_id"]: r["fired"] for r in rows}}
