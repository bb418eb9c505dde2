"""Orders as ingest reads them: a request's body, and one order. The order's own rules
(required fields, a known status, a parseable date, an ISO 4217 currency, items + shipping -
discount = totalCost) are ``OrderDocument``'s, in libs/schemas. Pure: no I/O."""

from __future__ import annotations

from typing import Any

from orderflow_schemas import MAX_ORDERS_PER_REQUEST, OrderDocument
from pydantic import BaseModel, Field


class OrdersBody(BaseModel):
    """``POST /api/v1/orders`` when every order in it is valid: parsed and validated from the
    request's bytes in one call into pydantic-core (the HTTP hot path)."""

    orders: list[OrderDocument] = Field(min_length=1, max_length=MAX_ORDERS_PER_REQUEST)


def validate_order(item: Any) -> OrderDocument:
    """One order (raises ``pydantic.ValidationError``)."""
    return OrderDocument.model_validate(item)
