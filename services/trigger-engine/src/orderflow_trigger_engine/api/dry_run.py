"""``POST /api/v1/triggers/{id}/dry-run``: condition by condition, what held, what did not and
why, and whether the trigger would fire, for a given order or one the engine has seen. Nothing is
recorded or sent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from orderflow_schemas import FieldChange, OrderStatus, TriggerDefinition, WireModel
from orderflow_schemas.triggers import EventName, check_event_name
from pydantic import ConfigDict, Field, field_validator, model_validator

from ..domain.customers import Stats, customer_key, customer_view
from ..domain.evaluate import CompiledTrigger, evaluate
from ..domain.events import EventView
from ..domain.listening import describe
from ..domain.scope import Scope
from ..domain.timing import due_at
from .deps import NOT_FOUND, CanRead, Store

router = APIRouter(prefix="/api/v1/triggers", tags=["triggers"])


class PretendEvent(WireModel):
    """The event to pretend; by default the order's ``order<STATUS>`` event."""

    name: EventName | None = None
    previous_status: OrderStatus | None = None
    changes: list[FieldChange] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _known(cls, name: str | None) -> str | None:
        return None if name is None else check_event_name(name)


def _exactly_one(schema: dict[str, Any]) -> None:
    # The rule of ``_one`` below, stated in the schema too.
    schema["oneOf"] = [
        {"required": ["order"], "properties": {"order": {"type": "object"},
                                               "externalOrderId": {"type": "null"}}},
        {"required": ["externalOrderId"], "properties": {"externalOrderId": {"type": "string"},
                                                         "order": {"type": "null"}}}]


class DryRun(WireModel):
    model_config = ConfigDict(json_schema_extra=_exactly_one)
    order: dict[str, Any] | None = None
    external_order_id: str | None = None
    customer_id: str | None = None
    event: PretendEvent = Field(default_factory=PretendEvent)

    @model_validator(mode="after")
    def _one(self) -> DryRun:
        if (self.order is None) == (self.external_order_id is None):
            raise ValueError("give exactly one of order, externalOrderId")
        return self


@router.post("/{trigger_id}/dry-run", dependencies=[CanRead], responses=NOT_FOUND)
async def dry_run(trigger_id: str, body: DryRun, store: Store) -> dict[str, Any]:
    trigger = await store.get(trigger_id)
    if trigger is None:
        raise HTTPException(404, "trigger not found")
    order, customer_id = body.order, body.customer_id
    if order is None:
        row = await store.pool.fetchrow(
            "SELECT document, customer_id FROM latest_orders WHERE external_order_id = $1",
            body.external_order_id)
        if row is None:
            raise HTTPException(404, "the trigger-engine has seen no order with this id")
        order, customer_id = row["document"], customer_id or row["customer_id"]
    status = str(order.get("status") or "")
    pretend = body.event
    name = pretend.name or f"order{status}"
    details: dict[str, Any] = {"name": name, "status": status,
               "previousStatus": pretend.previous_status,
               "changes": [c.to_dict() for c in pretend.changes]}
    view = EventView(str(uuid.uuid4()), name, str(order.get("externalOrderId", "")),
                     customer_id, order, details, status or None,
                     pretend.previous_status.value if pretend.previous_status else None,
                     tuple(c.to_dict() for c in pretend.changes))
    key = customer_key(customer_id, order)
    row = await store.pool.fetchrow(
        "SELECT delivered_orders, total_spent, last_order_date FROM customer_stats "
        "WHERE customer_key = $1", key) if key else None
    stats = Stats(row[0], row[1], row[2]) if row else Stats()
    compiled = CompiledTrigger.of(trigger)
    result = evaluate(compiled, Scope(view, customer_view(customer_id, order, stats)),
                      every=True)
    listens = compiled.listens_to(view)
    return {
        "triggerId": trigger.id, "revision": trigger.revision, "enabled": trigger.enabled,
        "event": view.name, "listensTo": [describe(x) for x in trigger.listens()],
        "listening": listens,
        "conditions": [{"index": r.index, "condition": r.label, "holds": r.holds,
                        "value": r.value} for r in sorted(result.results, key=lambda r: r.index)],
        "wouldFire": listens and result.fired and trigger.enabled,
        "when": _when(trigger, listens and result.fired),
    }


def _when(trigger: TriggerDefinition, fires: bool) -> str | None:
    """``now``, or when the delay and the working windows would let it fire from now."""
    if not fires:
        return None
    now = datetime.now(UTC)
    due = due_at(now, trigger.delay_time, trigger.schedule)
    return "now" if due <= now else due.isoformat()
