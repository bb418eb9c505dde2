"""Triggers: an event, conditions that must all hold, a delay, a working mode and effects
(seeds 001, 003, 004), and the record of each firing."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import Field

from .base import Message, WireModel
from .effects import Effect


class Operator(StrEnum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    IN = "in"
    NOT_IN = "not_in"
    CONTAINS = "contains"
    EXISTS = "exists"
    NOT_EXISTS = "not_exists"
    CHANGED_TO = "changed_to"
    CHANGED_FROM = "changed_from"


class Condition(WireModel):
    """``field`` is a dotted path: ``order.totalCost``, ``order.items.category``, ``customer.id``,
    ``event.name``. ``changed_to``/``changed_from`` look at the event's changes."""

    field: str = Field(min_length=1)
    op: Operator
    value: Any = None


class Schedule(WireModel):
    """Continuous, or chosen weekdays (1 = Monday) and hours in a time zone."""

    mode: Literal["continuous", "window"] = "continuous"
    weekdays: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5])
    start: str = Field(default="09:00", pattern=r"^\d{2}:\d{2}$")
    end: str = Field(default="17:00", pattern=r"^\d{2}:\d{2}$")
    timezone: str = "UTC"


class TriggerSpec(WireModel):
    """What a user sends to ``POST /api/v1/triggers``."""

    name: str = Field(min_length=1, max_length=200)
    enabled: bool = True
    event: str = Field(min_length=1, description="orderDELIVERED, orderUPDATED, action:<name>")
    conditions: list[Condition] = Field(default_factory=list)
    delay: str = Field(default="PT0S", description="ISO 8601 duration")
    schedule: Schedule = Field(default_factory=Schedule)
    effects: list[Effect] = Field(min_length=1)


class TriggerDefinition(TriggerSpec):
    """A stored trigger."""

    id: str
    revision: int = 1


class FiringOutcome(StrEnum):
    FIRED = "fired"
    NOT_FIRED = "not_fired"
    SCHEDULED = "scheduled"


class TriggerFiring(Message):
    """A trigger matched an event: fired, scheduled for later, or did not fire (with reasons)."""

    TYPE: ClassVar[str] = "trigger.firing"

    trigger_id: str
    trigger_name: str
    event_id: str
    event_name: str
    external_order_id: str
    outcome: FiringOutcome
    reasons: list[str] = Field(default_factory=list)
    action_request_ids: list[str] = Field(default_factory=list)
