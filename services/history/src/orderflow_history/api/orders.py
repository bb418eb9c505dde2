"""``/api/v1/orders/{id}``: the order as last processed and its timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query

from ..projection import shown
from .deps import CanRead, Limit, Pool
from .paging import decode_cursor, next_cursor

router = APIRouter(prefix="/api/v1/orders", tags=["orders"], dependencies=[CanRead])


@router.get("/{external_order_id}", responses={404: {"description": "order not found"}})
async def get_order(external_order_id: str, pool: Pool) -> dict[str, Any]:
    """The order's full JSON as last processed, with its versionTag."""
    row = await pool.fetchrow(
        "SELECT document, version_tag, status, customer_id, updated_at FROM orders "
        "WHERE external_order_id = $1", external_order_id)
    if row is None:
        raise HTTPException(404, "order not found")
    return {"externalOrderId": external_order_id, "versionTag": row["version_tag"],
            "status": row["status"], "customerId": row["customer_id"],
            "updatedAt": row["updated_at"].isoformat(), "order": row["document"]}


@router.get("/{external_order_id}/timeline", responses={404: {"description": "order unknown"}})
async def get_timeline(
    external_order_id: str,
    pool: Pool,
    limit: Limit = 100,
    cursor: str | None = None,
    kind: list[str] | None = Query(None, description="Only these kinds (repeatable)"),
) -> dict[str, Any]:
    """Everything that happened to the order, oldest first; comments related to an external
    action are also listed under that action's ``comments``."""
    after: tuple[datetime, str] | None = decode_cursor(cursor) if cursor else None
    rows = await pool.fetch(
        """
        SELECT message_id, kind, name, related_id, occurred_at, payload FROM timeline
        WHERE external_order_id = $1
          AND ($2::text[] IS NULL OR kind = ANY($2::text[]))
          AND ($3::timestamptz IS NULL OR (occurred_at, message_id) > ($3, $4))
        ORDER BY occurred_at, message_id LIMIT $5
        """,
        external_order_id, kind, after[0] if after else None, after[1] if after else "",
        limit + 1)
    if not rows and after is None and not await pool.fetchval(
            "SELECT 1 FROM timeline WHERE external_order_id = $1 LIMIT 1", external_order_id):
        raise HTTPException(404, "no history for this order")
    page = rows[:limit]
    entries = [_entry(r) for r in page]
    # Under the action's latest entry before it: its execution, else its definition.
    by_action: dict[str, dict[str, Any]] = {}
    for e in entries:
        if e["kind"] in ("external_action", "external_action_defined") and e["relatedId"]:
            by_action[e["relatedId"]] = e
        elif e["kind"] == "comment" and e["relatedId"] in by_action:
            by_action[e["relatedId"]].setdefault("comments", []).append(e)
    nxt = next_cursor(rows, limit)
    return {"externalOrderId": external_order_id, "entries": entries, "nextCursor": nxt}


def _entry(row: Any) -> dict[str, Any]:
    return {"id": row["message_id"], "kind": row["kind"], "name": row["name"],
            "relatedId": row["related_id"], "occurredAt": row["occurred_at"].isoformat(),
            "data": shown(row["payload"])}
