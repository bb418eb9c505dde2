"""Triggers: what they listen to, conditions that must all hold, a delay, a working mode and
effects (seeds 001, 003, 004), and the records of their evaluation.

A trigger listens to one or more of (``event`` and/or ``events``):

- an order event by name: ``"orderDELIVERED"``, ``"orderUPDATED"``;
- an order action: ``"action:ConfirmOrder"`` or any custom name;
- a status change: ``{"statusChange": {"from": "IN_PROGRESS", "to": "DELIVERED"}}`` (both optional);
- a change of a field: ``{"fieldChange": {"field": "deliveryMethod", "to": "courier"}}``.

A condition is ``field`` / ``op`` / ``value`` over ``order``, ``event`` or ``customer`` (with
``aggregate`` over lists: any item, all items, count, sum), or a CEL ``expression``."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .base import JsonInt, Message, WireModel
from .effects import Effect
from .orders import ORDER_UPDATED, OrderStatus

ACTION_PREFIX = "action:"
EVENT_NAMES: frozenset[str] = frozenset(
    [f"order{s.value}" for s in OrderStatus] + [ORDER_UPDATED])
ROOTS = ("order", "event", "customer")


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
    MATCHES = "matches"  # a regular expression (Python syntax), searched in the value
    EXISTS = "exists"  # same as is_set
    NOT_EXISTS = "not_exists"  # same as is_empty
    IS_SET = "is_set"  # present and not null / "" / []
    IS_EMPTY = "is_empty"
    CHANGED = "changed"  # the event changed the field
    CHANGED_TO = "changed_to"
    CHANGED_FROM = "changed_from"


VALUELESS = frozenset({Operator.EXISTS, Operator.NOT_EXISTS, Operator.IS_SET, Operator.IS_EMPTY,
                       Operator.CHANGED})
CHANGE_OPS = frozenset({Operator.CHANGED, Operator.CHANGED_TO, Operator.CHANGED_FROM})


def _expression_or_field_and_op(schema: dict[str, Any]) -> None:
    # The rules of ``_complete`` below that a schema can state.
    schema["oneOf"] = [
        {"required": ["expression"], "properties": {
            "expression": {"type": "string"}, "field": {"type": "null"}, "op": {"type": "null"}}},
        {"required": ["field", "op"], "properties": {
            "field": {"type": "string"}, "op": {"type": "string"},
            "expression": {"type": "null"}}}]
    schema["if"] = {"required": ["op"], "properties": {"op": {"enum": ["in", "not_in"]}}}
    schema["then"] = {"required": ["value"], "properties": {"value": {"type": "array"}}}


class Condition(WireModel):
    """``field`` is a dotted path: ``order.totalCost``, ``order.items.category``, ``customer.id``,
    ``customer.deliveredOrders``, ``event.name``. A path through a list holds when any value does,
    unless ``aggregate`` says ``all``; ``count`` compares the number of entries, ``sum`` the sum
    of the values. ``changed*`` look at the event's changes. ``expression`` (CEL over ``order``,
    ``event`` and ``customer``) replaces field/op/value."""

    model_config = ConfigDict(json_schema_extra=_expression_or_field_and_op)
    field: str | None = Field(default=None, json_schema_extra={
        "pattern": r"^(order|event|customer)(\..+)?$"})
    op: Operator | None = None
    value: Any = None
    aggregate: Literal["any", "all", "count", "sum"] | None = None
    expression: str | None = Field(default=None, min_length=1, max_length=4000)

    @field_validator("field")
    @classmethod
    def _rooted(cls, path: str | None) -> str | None:
        if path is not None and path.split(".", 1)[0] not in ROOTS:
            raise ValueError(f"a field starts with one of {', '.join(ROOTS)}: got {path!r}")
        return path

    @model_validator(mode="after")
    def _complete(self) -> Condition:
        if self.expression is not None:
            if self.field is not None or self.op is not None:
                raise ValueError("a condition is either an expression or field/op/value")
            return self
        if self.field is None or self.op is None:
            raise ValueError("a condition needs field and op (or an expression)")
        if self.op is Operator.MATCHES:
            try:
                re.compile(str(self.value))
            except re.error as exc:
                raise ValueError(f"value: the regular expression does not compile: {exc}") \
                    from exc
        if self.op in (Operator.IN, Operator.NOT_IN) and not isinstance(self.value, list):
            raise ValueError(f"value: {self.op.value} needs a list")
        return self


def check_event_name(name: str) -> str:
    """An order event name or ``action:<name>``; anything else is an unknown event kind."""
    if name in EVENT_NAMES or (name.startswith(ACTION_PREFIX) and len(name) > len(ACTION_PREFIX)):
        return name
    raise ValueError(f"unknown event kind {name!r}: one of {', '.join(sorted(EVENT_NAMES))} "
                     f"or {ACTION_PREFIX}<name>")


class StatusChange(WireModel):
    """The order's status changed, optionally from and/or to given statuses."""

    from_: OrderStatus | None = Field(default=None, alias="from")
    to: OrderStatus | None = None


class FieldChangeSpec(WireModel):
    """A field of the order (dotted path without ``order.``) changed, optionally to a value."""

    field: str = Field(min_length=1)
    to: Any = None


def _exactly_one_kind(schema: dict[str, Any]) -> None:
    # The rule of ``_one`` below, stated in the schema too.
    schema["oneOf"] = [
        {"required": ["statusChange"], "properties": {"statusChange": {"type": "object"},
                                                      "fieldChange": {"type": "null"}}},
        {"required": ["fieldChange"], "properties": {"fieldChange": {"type": "object"},
                                                     "statusChange": {"type": "null"}}}]


class ListenSpec(WireModel):
    """An event a trigger listens to, in its object form."""

    model_config = ConfigDict(json_schema_extra=_exactly_one_kind)

    status_change: StatusChange | None = None
    field_change: FieldChangeSpec | None = None

    @model_validator(mode="after")
    def _one(self) -> ListenSpec:
        if (self.status_change is None) == (self.field_change is None):
            raise ValueError("give exactly one of statusChange, fieldChange")
        return self


EVENT_NAME_PATTERN = "^(" + "|".join(sorted(EVENT_NAMES)) + f"|{ACTION_PREFIX}.+)$"
# The pattern for the schema only: the validators below give the friendlier message.
EventName = Annotated[str, Field(json_schema_extra={"pattern": EVENT_NAME_PATTERN})]
Listen = EventName | ListenSpec


def _check_listen(value: Listen) -> Listen:
    return check_event_name(value) if isinstance(value, str) else value


# ISO 8601 durations in weeks, days, hours, minutes and seconds: months and years have no fixed
# length, so a delay in them would be a guess.
_S = r"\d{1,6}(\.\d{1,6})?S"
_TIME = rf"T(\d{{1,6}}H(\d{{1,6}}M)?({_S})?|\d{{1,6}}M({_S})?|{_S})"
DURATION_PATTERN = rf"^P(\d{{1,4}}W(\d{{1,4}}D)?({_TIME})?|\d{{1,4}}D({_TIME})?|{_TIME})$"
_DURATION = TypeAdapter(timedelta)
_HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


def duration(text: str) -> timedelta:
    """An ISO 8601 duration (``PT5M``, ``P14D``, ``P1DT2H``) as a timedelta; the pattern bounds
    the digits, so that any duration it admits can be added to today (a few centuries at most)."""
    if not re.match(DURATION_PATTERN, text):
        raise ValueError(f"not an ISO 8601 duration in weeks, days, hours, minutes or seconds "
                         f"(PT5M, P14D; months and years have no fixed length): {text!r}")
    return _DURATION.validate_python(text)  # type: ignore[no-any-return]


def _minutes(n: int) -> str:
    """``n`` minutes as the ISO 8601 duration the pattern admits: 5 -> PT5M, 1500 -> P1DT1H."""
    days, rest = divmod(n, 1440)
    hours, minutes = divmod(rest, 60)
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return (f"P{days}D" if days else "P") + (f"T{time}" if time else "") if n else "PT0S"


def _duration_field(text: str) -> str:
    duration(text)
    return text


# The pattern for the schema only (as EventName's): ``duration`` refuses in words, where the
# pattern's own error would quote the regular expression back at the user.
Duration = Annotated[str, Field(json_schema_extra={"pattern": DURATION_PATTERN},
                                examples=["PT5M", "P14D"]),
                     AfterValidator(_duration_field)]


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc
    return name


def _wall_clock(text: str) -> str:
    if not re.match(_HHMM, text):
        raise ValueError(f"not a 24-hour time HH:MM, 00:00 to 23:59: {text!r}")
    return text


WallClock = Annotated[str, Field(json_schema_extra={"pattern": _HHMM}),
                      AfterValidator(_wall_clock)]


class Schedule(WireModel):
    """When a firing may happen: at any time (``continuous``), or in windows on chosen weekdays
    (1 = Monday) from ``start`` to ``end`` local time in ``timezone``. A window whose end is not
    after its start crosses midnight: it opens on the weekday given and closes the next day (the
    same start and end: the whole day from then)."""

    mode: Literal["continuous", "window"] = "continuous"
    weekdays: list[Annotated[int, Field(strict=True, ge=1, le=7), JsonInt]] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5], min_length=1, max_length=7,
        description="1 = Monday ... 7 = Sunday")
    start: WallClock = "09:00"
    end: WallClock = "17:00"
    timezone: Annotated[str, AfterValidator(_time_zone)] = Field(
        default="UTC", json_schema_extra={"enum": list[JsonValue](sorted(available_timezones()))})


def _period_with_its_mode(schema: dict[str, Any]) -> None:
    # The rule of ``_period`` below, stated in the schema too.
    schema["oneOf"] = [
        {"required": ["mode", "period"], "properties": {"mode": {"const": "once_per_period"},
                                                        "period": {"type": "string"}}},
        {"properties": {"mode": {"enum": ["every", "once"]}, "period": {"type": "null"}}}]


class Frequency(WireModel):
    """How often a trigger may fire for one order: every time, only once, or at most once per
    ``period``. A firing it forbids is skipped, and the timeline says why."""

    model_config = ConfigDict(json_schema_extra=_period_with_its_mode)

    mode: Literal["every", "once", "once_per_period"] = "every"
    period: Duration | None = Field(default=None, description="For once_per_period: P30D ...")

    @model_validator(mode="after")
    def _period(self) -> Frequency:
        if (self.mode == "once_per_period") != (self.period is not None):
            raise ValueError("period: give a period with once_per_period, and only with it")
        return self


class Step(WireModel):
    """A later step of a workflow: its effects, ``after`` the previous step."""

    after: Duration
    effects: list[Effect] = Field(min_length=1, max_length=50)


def _listens_somewhere(schema: dict[str, Any]) -> None:
    # The rule of ``_listens`` below, stated in the schema too: ``event`` or a non-empty
    # ``events``.
    schema["anyOf"] = [
        {"required": ["event"], "properties": {"event": {"not": {"type": "null"}}}},
        {"required": ["events"], "properties": {"events": {"minItems": 1}}}]


class TriggerSpec(WireModel):
    """What a user sends to ``POST /api/v1/triggers``."""

    model_config = ConfigDict(json_schema_extra=_listens_somewhere)

    name: str = Field(min_length=1, max_length=200)
    enabled: bool = Field(default=True, strict=True)
    event: Listen | None = Field(
        default=None, description="orderDELIVERED, orderUPDATED, action:<name>, "
                                  "{statusChange: {from, to}} or {fieldChange: {field, to}}")
    events: list[Listen] = Field(default_factory=list, max_length=50,
                                 description="Several of what ``event`` takes")
    conditions: list[Condition] = Field(default_factory=list, max_length=100)
    delay: Duration = Field(default="PT0S", description="ISO 8601 duration after the event; "
                            "the conditions are checked again when it has elapsed")
    delay_minutes: Annotated[int, Field(strict=True, ge=0, le=5_270_400), JsonInt] | None = Field(
        default=None,
                                      description="The delay in minutes (instead of delay)")
    schedule: Schedule = Field(default_factory=Schedule)
    frequency: Frequency = Field(default_factory=Frequency)
    effects: list[Effect] = Field(min_length=1)
    steps: list[Step] = Field(default_factory=list, max_length=20,
                              description="Later steps of a workflow, each after the previous")
    stop_when: list[Condition] = Field(
        default_factory=list, max_length=100,
        description="A waiting run stops when any of these holds (checked on every event of "
                    "the order and before every step)")
    block_while_running: bool = Field(
        default=False, strict=True,
        description="A run of this trigger waiting for the order blocks a new start for it")

    @field_validator("event")
    @classmethod
    def _event_kind(cls, value: Listen | None) -> Listen | None:
        return None if value is None else _check_listen(value)

    @field_validator("events")
    @classmethod
    def _event_kinds(cls, values: list[Listen]) -> list[Listen]:
        return [_check_listen(v) for v in values]

    @model_validator(mode="after")
    def _listens(self) -> TriggerSpec:
        if self.event is None and not self.events:
            raise ValueError("event: a trigger listens to at least one event (event or events)")
        if self.delay_minutes is not None:
            self.__dict__["delay"] = _minutes(self.delay_minutes)
        return self

    @field_validator("delay_minutes")
    @classmethod
    def _one_delay(cls, minutes: int | None, info: ValidationInfo) -> int | None:
        delay = info.data.get("delay")
        if minutes is not None and delay is not None and duration(delay) not in (
                timedelta(0), timedelta(minutes=minutes)):
            raise ValueError(f"the trigger also has delay {delay}: give one of the two")
        return minutes

    @property
    def delay_time(self) -> timedelta:
        return duration(self.delay)

    def listens(self) -> list[Listen]:
        """Everything the trigger listens to."""
        return ([self.event] if self.event is not None else []) + list(self.events)


class TriggerDefinition(TriggerSpec):
    """A stored trigger at one revision."""

    id: str
    revision: int = 1


# A run's state (delays, windows, workflows), as the runs API answers and filters it.
RunState = Literal["waiting", "done", "stopped", "cancelled", "not_fired", "skipped"]
RUN_STATES: tuple[str, ...] = get_args(RunState)


class FiringOutcome(StrEnum):
    """What an evaluation decided. Grows with delays and workflows (scheduled, skipped ...)."""

    FIRED = "fired"
    NOT_FIRED = "not_fired"
    SCHEDULED = "scheduled"  # waiting for a delay, a window or a later step
    SKIPPED = "skipped"  # the frequency or a run in progress forbade it
    STOPPED = "stopped"  # a stop condition held
    CANCELLED = "cancelled"  # the trigger was disabled or deleted while the run waited


class TriggerFiring(Message):
    """A trigger fired on an event (one per trigger and event; its id is derived from both), with
    the conditions that held and the action requests it made."""

    TYPE: ClassVar[str] = "trigger.firing"

    trigger_id: str
    trigger_name: str
    revision: int = Field(default=1, description="The trigger revision that was evaluated")
    event_id: str
    event_name: str
    external_order_id: str
    outcome: FiringOutcome
    reasons: list[str] = Field(default_factory=list)
    action_request_ids: list[str] = Field(default_factory=list)
    step: int = Field(default=0, description="0: the effects, 1...: later workflow steps")


class TriggerVerdict(WireModel):
    """One trigger's outcome in an evaluation: for one that did not fire, the first condition
    that failed and the value it saw."""

    trigger_id: str
    trigger_name: str
    revision: int
    outcome: FiringOutcome
    firing_id: str | None = None
    failed_condition: str | None = None
    failed_value: Any = None
    run_id: str | None = Field(default=None, description="The run, for delays and workflows")
    step: int | None = Field(default=None, description="0: the effects, 1...: later steps")
    due_at: datetime | None = Field(default=None, description="When a waiting run is due")
    reason: str | None = Field(default=None, description="Why skipped, stopped or cancelled")


class TriggerEvaluation(Message):
    """Every trigger evaluated for one event, in one message: the timeline shows it as one row,
    however many triggers listened."""

    TYPE: ClassVar[str] = "trigger.evaluation"

    event_id: str
    event_name: str
    subject: Literal["order"] = Field(default="order", description="What the event is about")
    external_order_id: str
    customer_id: str | None = None
    fired: int = 0
    verdicts: list[TriggerVerdict] = Field(default_factory=list)
