"""``/api/v1/customers/{id}``: contact preview with RFM from DELIVERED orders (seed 004)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException

from ..rfm import CUSTOMER, customer_json
from .deps import CanRead, Pool

router = APIRouter(prefix="/api/v1/customers", tags=["customers"], dependencies=[CanRead])


@router.get("/{customer_id}", responses={404: {"description": "customer unknown"}})
async def get_customer(customer_id: str, pool: Pool) -> dict[str, Any]:
    """Ids, e-mail, phone and name from the customer's latest order, with recency (days since
    the last delivered order), frequency, monetary sum and average check, and R/F/M scores."""
    row = await pool.fetchrow(CUSTOMER, customer_id)
    if row is None:
        raise HTTPException(404, "customer not found")
    return customer_json(row, datetime.now(UTC))
