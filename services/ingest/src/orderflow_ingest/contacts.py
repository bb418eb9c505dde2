"""Which customer an order belongs to (seed 004): by externalCustomerId first, then e-mail or
phone."""

from __future__ import annotations

from orderflow_schemas import OrderDocument


def customer_key(order: OrderDocument) -> str | None:
    if order.externalCustomerId:
        return f"ext:{order.externalCustomerId}"
    if order.email:
        return f"email:{order.email.strip().lower()}"
    if order.phone:
        return f"phone:{''.join(ch for ch in order.phone if ch.isdigit())}"
    return None
