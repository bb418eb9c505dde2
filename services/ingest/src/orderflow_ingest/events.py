"""What event, if any, a new version of an order makes. Pure: no I/O."""

from __future__ import annotations

from typing import Any

from orderflow_schemas import ORDER_UPDATED, OrderDocument, OrderEvent, OrderStatus, event_name

from .versions import changes, version_tag


def event_for(
    previous: dict[str, Any] | None, order: OrderDocument, event_id: str,
    customer_id: str | None = None, sequence: int = 1,
) -> OrderEvent | None:
    """``order<STATUS>`` for a new order or a status change, ``orderUPDATED`` for another change,
    None for an identical resend. ``customer_id`` is orderflow's customer (``contacts.py``);
    ``sequence`` is the order's next event number (one more than its last event's)."""
    document = order.model_dump(mode="json", exclude_unset=True)
    if previous is not None and previous == document:
        return None
    diff = changes(previous or {}, document) if previous is not None else []
    previous_status = OrderStatus(previous["status"]) if previous else None
    status_changed = previous_status != order.status
    return OrderEvent(
        id=event_id,
        name=event_name(order.status) if status_changed else ORDER_UPDATED,
        external_order_id=order.externalOrderId,
        customer_id=customer_id,
        status=order.status,
        previous_status=previous_status,
        changes=diff,
        version_tag=version_tag(document),
        sequence=sequence,
        order=document,
    )
