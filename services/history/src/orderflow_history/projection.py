"""What each message becomes in the read models. Pure: a message in, rows out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
    payload: dict[str, Any]

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.message_id, self.external_order_id, self.kind, self.name, self.customer_id,
                self.related_id, self.occurred_at, self.source, self.payload)


_DROP = {"id", "type", "version", "occurredAt", "externalOrderId"}


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


def timeline_row(message: Message, source: str) -> TimelineRow | None:
    order_id = getattr(message, "external_order_id", None)
    if not order_id:
        return None  # e.g. a dead letter that names no order: kept in the DLQ topic only
    kind, name, related = _kind_and_name(message)
    payload = {k: v for k, v in message.to_dict().items() if k not in _DROP}
    if isinstance(message, OrderEvent):
        payload.pop("order", None)  # the full document lives in the orders read model
    return TimelineRow(
        message_id=message.id, external_order_id=order_id, kind=kind, name=name,
        customer_id=getattr(message, "customer_id", None), related_id=related,
        occurred_at=message.occurred_at, source=source, payload=payload,
    )
