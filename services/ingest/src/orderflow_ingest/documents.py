"""The order document as ingest accepts it: ``OrderDocument`` from libs/schemas plus the rules
that need a code list (ISO 4217 currencies, from ``pycountry``). Pure: no I/O.

Status (a known ``OrderStatus``), date (anything pydantic parses as a datetime), required fields
and item rules (items + shipping - discount = totalCost) are ``OrderDocument``'s own."""

from __future__ import annotations

from typing import Any

import pycountry
from orderflow_schemas import MAX_ORDERS_PER_REQUEST, OrderDocument
from pydantic import BaseModel, Field, field_validator

CURRENCIES: frozenset[str] = frozenset(c.alpha_3 for c in pycountry.currencies)


class IngestOrder(OrderDocument):
    """An order that passes every intake rule; the HTTP API and the inbound topic both use it."""

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str | None) -> str | None:
        if value is not None and value not in CURRENCIES:
            raise ValueError(f"currency {value!r} is not an ISO 4217 code")
        return value


class OrdersBody(BaseModel):
    """``POST /api/v1/orders`` when every order in it is valid: parsed and validated from the
    request's bytes in one call into pydantic-core (the HTTP hot path)."""

    orders: list[IngestOrder] = Field(min_length=1, max_length=MAX_ORDERS_PER_REQUEST)


def validate_order(item: Any) -> IngestOrder:
    """One order (raises ``pydantic.ValidationError``)."""
    return IngestOrder.model_validate(item)
