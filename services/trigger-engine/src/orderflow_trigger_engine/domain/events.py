"""An event as triggers see it: an order event or an order action, about a subject (an order
today; products later), with the keys the trigger index looks it up by."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from orderflow_schemas import OrderAction, OrderEvent
from orderflow_schemas.triggers import ACTION_PREFIX

# Index keys: ("name", event name), ("status", status or "*"), ("field", changed field).
Key = tuple[str, str]
ANY = "*"


def action_event_name(action: str) -> str:
    """The event name an order action is known by to triggers."""
    return f"{ACTION_PREFIX}{action}"


@dataclass(frozen=True)
class EventView:
    """What an evaluation sees of an event: fixed once made, so that evaluating it again gives
    the same answer."""

    id: str
    name: str
    subject_id: str  # the external order id
    customer_id: str | None
    order: dict[str, Any]
    details: dict[str, Any]
    status: str | None = None
    previous_status: str | None = None
    changes: tuple[dict[str, Any], ...] = field(default=())
    at: datetime | None = None  # when the event happened (delays count from it)

    @classmethod
    def of_event(cls, e: OrderEvent, details: dict[str, Any] | None = None) -> EventView:
        """``details`` is the event's JSON without the order, when the caller has it already."""
        if details is None:
            details = e.to_dict()
            details.pop("order", None)
        # The JSON's own changes (validated with the event): dumping each model again cost
        # as much as the rest of the view.
        changes = tuple({"field": c["field"], "from": c.get("from"), "to": c.get("to")}
                        for c in details.get("changes", ()))
        return cls(e.id, e.name, e.external_order_id, e.customer_id, e.order, details,
                   e.status.value, e.previous_status.value if e.previous_status else None, changes,
                   e.occurred_at)

    @classmethod
    def of_action(cls, a: OrderAction, order: dict[str, Any], customer_id: str | None) -> EventView:
        details = {**a.to_dict(), "name": action_event_name(a.action)}
        return cls(a.id, action_event_name(a.action), a.external_order_id, customer_id, order,
                   details, at=a.occurred_at)

    def to_json(self) -> dict[str, Any]:
        """What a waiting run keeps of the event: all but the order, read afresh when due."""
        return {"id": self.id, "name": self.name, "subjectId": self.subject_id,
                "customerId": self.customer_id, "details": self.details, "status": self.status,
                "previousStatus": self.previous_status, "changes": list(self.changes),
                "at": self.at.isoformat() if self.at else None}

    @classmethod
    def from_json(cls, data: dict[str, Any], order: dict[str, Any],
                  customer_id: str | None) -> EventView:
        at = data.get("at")
        return cls(data["id"], data["name"], data["subjectId"],
                   customer_id or data.get("customerId"), order, data["details"],
                   data.get("status"), data.get("previousStatus"), tuple(data["changes"]),
                   datetime.fromisoformat(at) if at else None)

    def with_order(self, order: dict[str, Any], customer_id: str | None) -> EventView:
        return replace(self, order=order, customer_id=customer_id or self.customer_id)

    @property
    def status_changed(self) -> bool:
        return self.status is not None and self.status != self.previous_status

    def index_keys(self) -> list[Key]:
        """Every index key a trigger listening to this event may be filed under."""
        keys: list[Key] = [("name", self.name)]
        if self.status_changed:
            keys += [("status", self.status or ANY), ("status", ANY)]
        keys += [("field", c.get("field", "")) for c in self.changes]
        return keys
