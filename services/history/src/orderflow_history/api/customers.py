"""``/api/v1/customers/{id}``: contact preview with RFM from DELIVERED orders (seed 004)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query

from ..rfm import CUSTOMER, customer_json
from .deps import CanRead, Pool

router = APIRouter(prefix="/api/v1/customers", tags=["customers"], dependencies=[CanRead])


By = Literal["any", "id", "externalCustomerId", "email", "phone"]


@router.get("/{customer_id}", responses={404: {"description": "customer unknown"}})
async def get_customer(
    customer_id: str, pool: Pool,
    by: Annotated[By, Query(description="Which id ``customer_id`` is: orderflow's customer id, "
                                        "the shop's externalCustomerId, an e-mail address or a "
                                        "phone number; ``any`` tries them in that order")] = "any",
) -> dict[str, Any]:
    """Ids, e-mail, phone and name from the customer's latest order, with recency (days since
    the last delivered order), frequency, monetary sum and average check, and R/F/M scores."""
    row = await pool.fetchrow(CUSTOMER, customer_id, by)
    if row is None:
        raise HTTPException(404, "customer not found")
    return customer_json(row, datetime.now(UTC))
