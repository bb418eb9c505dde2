"""What each message becomes in the read models. Pure: a message in, rows out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

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
    TriggerEvaluation,
    TriggerFiring,
)


class TimelineRow(NamedTuple):
    """A row of the timeline table, in its column order (COPY takes it as it is)."""

    message_id: str
    external_order_id: str
    kind: str
    name: str
    customer_id: str | None
    related_id: str | None
    occurred_at: datetime
    source: str
    payload_json: bytes  # JSON text: the jsonb codec passes bytes through (runtime/db.py)

    @property
    def payload(self) -> dict[str, Any]:
        """As the API shows it."""
        return shown(orjson.loads(self.payload_json))


# The envelope: kept in columns of its own, and left out of what the API shows as ``data``.
ENVELOPE = frozenset({"id", "type", "version", "occurredAt", "externalOrderId"})


def shown(payload: dict[str, Any]) -> dict[str, Any]:
    """A timeline payload as the API shows it: without the envelope."""
    return {k: v for k, v in payload.items() if k not in ENVELOPE}


def evaluation_name(m: TriggerEvaluation) -> str:
    """``2 of 5 fired``, with what else happened: ``0 of 1 fired, 1 scheduled``."""
    others = Counter(v.outcome.value for v in m.verdicts
                     if v.outcome.value not in ("fired", "not_fired"))
    fired = sum(v.outcome.value == "fired" for v in m.verdicts)
    return ", ".join([f"{fired} of {len(m.verdicts)} fired",
                      *(f"{n} {outcome}" for outcome, n in sorted(others.items()))])


def _kind_and_name(m: Message) -> tuple[str, str, str | None]:
    match m:
        case OrderEvent():
            return "order_event", m.name, None
        case OrderAction():
            return "order_action", m.action, None
        case TriggerFiring():
            return "trigger_firing", m.trigger_name, m.event_id
        case TriggerEvaluation():
            # One row per event, however many triggers listened: the payload lists each
            # trigger's outcome and, for those that did not fire, the condition that failed.
            return "trigger_evaluation", evaluation_name(m), m.event_id
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
    sequence: int = 0

    @property
    def version(self) -> tuple[int, int, int]:
        """What "newer" means for an order: its event number first (a re-published older event
        has a newer offset but a lower number); the position only breaks ties between events
        that carry no number (0)."""
        return (self.sequence, self.source_partition, self.source_offset)


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
        source_offset=offset, sequence=event.sequence,
    )


def latest_per_order(rows: list[OrderRow]) -> list[OrderRow]:
    """One row per order, its newest version (``OrderRow.version``): a batch may hold several
    events of one order, and one upsert statement may touch a row only once."""
    latest: dict[str, OrderRow] = {}
    for row in rows:
        seen = latest.get(row.external_order_id)
        if seen is None or seen.version < row.version:
            latest[row.external_order_id] = row
    return list(latest.values())


def timeline_row(message: Message, source: str, raw: bytes | None = None,
                 wire: dict[str, Any] | None = None) -> TimelineRow | None:
    """The payload is the message as it came (``raw``, its bytes; ``wire``, its JSON object
    from ``codec.load``), except an order event's document, which lives in the orders model:
    no dumping of the model again, which cost a third of the projection."""
    values = message.__dict__  # not getattr(): a pydantic model's missing attribute is slow
    order_id = values.get("external_order_id")
    if not order_id:
        return None  # e.g. a dead letter that names no order: kept in the DLQ topic only
    kind, name, related = _kind_and_name(message)
    if isinstance(message, OrderEvent):
        fields = wire if wire is not None else message.to_dict()
        payload = orjson.dumps({k: v for k, v in fields.items() if k != "order"})
    else:
        payload = raw or (orjson.dumps(wire) if wire is not None else message.to_wire())
    return TimelineRow(message.id, order_id, kind, name, values.get("customer_id"), related,
                       message.occurred_at, source, payload)
