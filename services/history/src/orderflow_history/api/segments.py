"""``/api/v1/segments``: customers with delivered orders by average check, order count and last
order date (seed 004), paged by customer id."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from ..rfm import SEGMENT, customer_json
from .deps import CanRead, IsoDatetime, Limit, Pool

router = APIRouter(prefix="/api/v1/segments", tags=["customers"], dependencies=[CanRead])



@router.get("")
async def list_segment(
    pool: Pool,
    limit: Limit = 100,
    cursor: str | None = None,
    average_check_min: Annotated[float | None, Query(alias="averageCheckMin", ge=0)] = None,
    average_check_max: Annotated[float | None, Query(alias="averageCheckMax", ge=0)] = None,
    order_count_min: Annotated[int | None, Query(alias="orderCountMin", ge=0)] = None,
    order_count_max: Annotated[int | None, Query(alias="orderCountMax", ge=0)] = None,
    last_order_from: Annotated[IsoDatetime | None, Query(alias="lastOrderFrom")] = None,
    last_order_to: Annotated[IsoDatetime | None, Query(alias="lastOrderTo")] = None,
) -> dict[str, Any]:
    """Customers whose delivered orders match every given range: average check and delivered
    order count inclusive, last delivered order date in [lastOrderFrom, lastOrderTo)."""
    after = _decode(cursor) if cursor else ""
    rows = await pool.fetch(SEGMENT, average_check_min, average_check_max, order_count_min,
                            order_count_max, last_order_from, last_order_to, after, limit + 1)
    page = rows[:limit]
    now = datetime.now(UTC)
    nxt = _encode(page[-1]["customer_key"]) if len(rows) > limit else None
    return {"customers": [customer_json(r, now) for r in page], "nextCursor": nxt}


def _encode(customer_key: str) -> str:
    return base64.urlsafe_b64encode(f"after|{customer_key}".encode()).decode()


def _decode(cursor: str) -> str:
    try:
        tag, _, customer_key = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
    except (binascii.Error, ValueError) as exc:
        raise HTTPException(400, "cursor is not valid: use nextCursor of a previous page") from exc
    if tag != "after":
        raise HTTPException(400, "cursor is not valid: use nextCursor of a previous page")
    return customer_key
