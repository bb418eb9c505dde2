"""Messages as the other services produce them, for history's tests and the benchmark."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from orderflow_schemas import OrderEvent, OrderStatus, event_name

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def order_doc(order_id: str, customer: str | None, status: str, total: float,
              date: datetime, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "externalOrderId": order_id, "externalCustomerId": customer, "totalCost": total,
        "status": status, "date": date.isoformat(), "email": f"{customer}@example.com",
        "phone": "380942583691", "firstName": "John", "lastName": f"Smith-{customer}",
        "currency": "USD",
    }
    doc.update(extra)
    return doc


def order_event(order_id: str, status: str, *, customer: str | None = "c1",
                total: float = 100.0, date: datetime = T0, at: datetime | None = None,
                version: int = 1, **extra: Any) -> OrderEvent:
    return OrderEvent(
        name=event_name(status), external_order_id=order_id, customer_id=customer,
        status=OrderStatus(status), version_tag=f"v{version}",
        order=order_doc(order_id, customer, status, total, date, **extra),
        occurred_at=at or date + timedelta(minutes=version),
    )
