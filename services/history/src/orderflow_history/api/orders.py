"""``/api/v1/orders/{id}``: the order as last processed and its timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from orderflow_schemas import OrderStatus

from ..projection import shown
from .deps import CanRead, Limit, Pool
from .paging import decode_cursor, encode_cursor, next_cursor

router = APIRouter(prefix="/api/v1/orders", tags=["orders"], dependencies=[CanRead])

# Newest change first; a customer by any id a shop knows it by (as /api/v1/customers/{id}).
SEARCH = """
SELECT external_order_id, status, version_tag, customer_id, customer_key, updated_at,
       document->>'totalCost' AS total_cost, document->>'email' AS email
FROM orders
WHERE ($1::text IS NULL OR external_order_id LIKE replace(replace(replace($1, '\\', '\\\\'),
                                                              '%', '\\%'), '_', '\\_') || '%')
  AND ($2::text IS NULL OR customer_key IN (
        SELECT customer_key FROM customers WHERE customer_key = $2
            OR external_customer_id = $2 OR lower(email) = lower($2)
            OR (regexp_replace($2, '\\D', '', 'g') <> ''
                AND regexp_replace(phone, '\\D', '', 'g') = regexp_replace($2, '\\D', '', 'g'))))
  AND ($3::text IS NULL OR status = $3)
  AND ($4::timestamptz IS NULL OR (updated_at, external_order_id) < ($4, $5))
ORDER BY updated_at DESC, external_order_id DESC LIMIT $6
"""


@router.get("", responses={400: {"description": "bad cursor"}})
async def search_orders(
    pool: Pool,
    order: Annotated[str | None, Query(min_length=1, max_length=200,
                                       description="Orders whose id starts with this")] = None,
    customer: Annotated[str | None, Query(
        min_length=1, max_length=200, description="orderflow's customer id, the shop's "
        "externalCustomerId, an e-mail address or a phone number")] = None,
    status: OrderStatus | None = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Orders as last processed, the most recently changed first."""
    at, key = decode_cursor(cursor) if cursor else (None, "")
    rows = await pool.fetch(SEARCH, order, customer, status.value if status else None, at, key,
                            limit + 1)
    page = rows[:limit]
    more = len(rows) > limit
    return {"orders": [{
        "externalOrderId": r["external_order_id"], "status": r["status"],
        "versionTag": r["version_tag"], "customerId": r["customer_id"],
        "customerKey": r["customer_key"], "email": r["email"],
        "totalCost": float(r["total_cost"]) if r["total_cost"] is not None else None,
        "updatedAt": r["updated_at"].isoformat()} for r in page],
        "nextCursor": encode_cursor(page[-1]["updated_at"], page[-1]["external_order_id"])
        if more else None}


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
