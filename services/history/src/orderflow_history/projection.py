"""What each message becomes in the read models. Pure: a message in, rows out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from orderflow_schemas import (
    ActionRequest,
    ActionResult,
    Comment,
    DeadLetter,
    ExternalActionDefinition,
    ExternalActionExecution,
    Message,
    OrderAction,
    OrderEvent,
    TriggerFiring,
)


@dataclass(frozen=True)
class TimelineRow:
    message_id: str
    external_order_id: str
    kind: str
    name: str
    customer_id: str | None
    related_id: str | None
    occurred_at: datetime
    source: str
    payload_json: str  # JSON text: PostgreSQL casts it to jsonb, no dict is built on the way

    @property
    def payload(self) -> dict[str, Any]:
        return orjson.loads(self.payload_json)  # type: ignore[no-any-return]

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.message_id, self.external_order_id, self.kind, self.name, self.customer_id,
                self.related_id, self.occurred_at, self.source, self.payload_json)


# Kept in columns of their own; an order event's full document lives in the orders read model.
_DROP = {"id", "type", "version", "occurred_at", "external_order_id"}
_DROP_EVENT = _DROP | {"order"}


def _kind_and_name(m: Message) -> tuple[str, str, str | None]:
    match m:
        case OrderEvent():
            return "order_event", m.name, None
        case OrderAction():
            return "order_action", m.action, None
        case TriggerFiring():
            return "trigger_firing", m.trigger_name, m.event_id
        case ActionRequest():
            return "effect_requested", m.effect.type, m.firing_id
        case ActionResult():
            return f"effect_{m.outcome.value}", m.effect_type, m.request_id
        case ExternalActionDefinition():
            return "external_action_defined", m.action_type, m.action_id
        case ExternalActionExecution():
            return "external_action", m.action_type, m.action_id
        case Comment():
            return "comment", "COMMENT", m.related_action_id
        case DeadLetter():
            return "dead_letter", m.service, None
    raise TypeError(f"no timeline mapping for {type(m).__name__}")


@dataclass(frozen=True)
class OrderRow:
    """An order as last processed, with the facts RFM needs pulled out of its document."""

    external_order_id: str
    document: dict[str, Any]
    status: str
    version_tag: str
    customer_id: str | None
    customer_key: str | None
    total_cost: float | None
    ordered_at: datetime
    updated_at: datetime
    source_partition: int
    source_offset: int


def customer_key(event: OrderEvent) -> str | None:
    """Who the order belongs to: orderflow's customer id when ingest matched one, else the
    contact ids of the document in seed 004's order (externalCustomerId, e-mail, phone)."""
    doc = event.order
    for candidate in (event.customer_id, doc.get("externalCustomerId"), doc.get("email"),
                      doc.get("phone")):
        if candidate:
            return str(candidate)
    return None


def order_row(event: OrderEvent, partition: int, offset: int) -> OrderRow:
    doc = event.order
    cost = doc.get("totalCost")
    try:
        ordered_at = datetime.fromisoformat(doc["date"]) if doc.get("date") else event.occurred_at
    except (TypeError, ValueError):
        ordered_at = event.occurred_at
    if ordered_at.tzinfo is None:
        ordered_at = ordered_at.replace(tzinfo=UTC)
    return OrderRow(
        external_order_id=event.external_order_id, document=doc, status=event.status.value,
        version_tag=event.version_tag, customer_id=event.customer_id,
        customer_key=customer_key(event),
        total_cost=float(cost) if isinstance(cost, int | float) else None,
        ordered_at=ordered_at, updated_at=event.occurred_at, source_partition=partition,
        source_offset=offset,
    )


def latest_per_order(rows: list[OrderRow]) -> list[OrderRow]:
    """One row per order, the furthest in its partition: a batch may hold several events of one
    order, and one upsert statement may touch a row only once."""
    latest: dict[str, OrderRow] = {}
    for row in rows:
        seen = latest.get(row.external_order_id)
        if seen is None or (seen.source_partition, seen.source_offset) < (
                row.source_partition, row.source_offset):
            latest[row.external_order_id] = row
    return list(latest.values())


def timeline_row(message: Message, source: str) -> TimelineRow | None:
    order_id = getattr(message, "external_order_id", None)
    if not order_id:
        return None  # e.g. a dead letter that names no order: kept in the DLQ topic only
    kind, name, related = _kind_and_name(message)
    drop = _DROP_EVENT if isinstance(message, OrderEvent) else _DROP
    payload = message.model_dump_json(by_alias=True, exclude=drop)
    return TimelineRow(
        message_id=message.id, external_order_id=order_id, kind=kind, name=name,
        customer_id=getattr(message, "customer_id", None), related_id=related,
        occurred_at=message.occurred_at, source=source, payload_json=payload,
    )
