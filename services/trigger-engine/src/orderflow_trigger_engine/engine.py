"""Deciding what a trigger does with an event. Pure: no I/O.

Ids are derived from (trigger, event[, step, effect]) so that evaluating the same event again,
after a crash or a replay, produces the same firing and the same action requests; the
action-executor performs a request id once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from orderflow_schemas import (
    ActionRequest,
    FiringOutcome,
    OrderAction,
    OrderEvent,
    TriggerDefinition,
    TriggerFiring,
)

from .conditions import check_all

_NS = uuid.UUID("1d7c5f0e-9a43-4d6b-a0c5-2f3e8b9d7a11")


def action_event_name(action: str) -> str:
    """The event name an order action is known by to triggers."""
    return f"action:{action}"


@dataclass(frozen=True)
class EventView:
    """An order event or an order action, as conditions see it."""

    id: str
    name: str
    external_order_id: str
    customer_id: str | None
    order: dict[str, Any]
    details: dict[str, Any]

    @classmethod
    def of_event(cls, e: OrderEvent) -> EventView:
        details = e.to_dict()
        details.pop("order", None)
        return cls(e.id, e.name, e.external_order_id, e.customer_id, e.order, details)

    @classmethod
    def of_action(cls, a: OrderAction, order: dict[str, Any], customer_id: str | None) -> EventView:
        details = {**a.to_dict(), "name": action_event_name(a.action)}
        return cls(a.id, action_event_name(a.action), a.external_order_id, customer_id, order,
                   details)

    @property
    def context(self) -> dict[str, Any]:
        return {"order": self.order, "event": self.details, "customer": {"id": self.customer_id}}


def evaluate(trigger: TriggerDefinition,
             event: EventView) -> tuple[TriggerFiring, list[ActionRequest]]:
    verdicts = check_all(trigger.conditions, event.context)
    fired = all(v.holds for v in verdicts)
    firing_id = str(uuid.uuid5(_NS, f"{trigger.id}:{event.id}"))
    request_ids = [str(uuid.uuid5(_NS, f"{trigger.id}:{event.id}:0:{index}"))
                   for index in range(len(trigger.effects))] if fired else []
    # The firing is made first so that the timeline shows it before what it caused.
    firing = TriggerFiring(
        id=firing_id, trigger_id=trigger.id, trigger_name=trigger.name, event_id=event.id,
        event_name=event.name, external_order_id=event.external_order_id,
        outcome=FiringOutcome.FIRED if fired else FiringOutcome.NOT_FIRED,
        reasons=[("holds: " if v.holds else "fails: ") + v.reason for v in verdicts],
        action_request_ids=request_ids)
    requests = [
        ActionRequest(
            id=request_id, external_order_id=event.external_order_id, trigger_id=trigger.id,
            trigger_name=trigger.name, firing_id=firing_id, event_id=event.id, step=0,
            effect_index=index, effect=effect, order=event.order, customer_id=event.customer_id)
        for index, (request_id, effect)
        in enumerate(zip(request_ids, trigger.effects, strict=False))
    ]
    return firing, requests
