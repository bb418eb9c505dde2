"""Deciding what a trigger does with an event, and explaining it. Pure: no I/O.

Ids are derived from (trigger, event[, step, effect]) so that evaluating the same event again
produces the same firing and the same action requests; the action-executor performs a request
id once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orderflow_schemas import (
    ActionRequest,
    FiringOutcome,
    TriggerDefinition,
    TriggerEvaluation,
    TriggerFiring,
    TriggerVerdict,
)

from .conditions import Check, compile_condition
from .events import EventView, Key
from .listening import key_of, matches
from .scope import Scope

_NS = uuid.UUID("1d7c5f0e-9a43-4d6b-a0c5-2f3e8b9d7a11")


class InvalidTrigger(ValueError):
    """A condition cannot be compiled; ``loc`` is where, as a 422 names it."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


@dataclass(frozen=True)
class CompiledTrigger:
    """A trigger revision ready to evaluate: its checks compiled once, cheapest first."""

    definition: TriggerDefinition
    checks: tuple[Check, ...]
    keys: frozenset[Key]

    @classmethod
    def of(cls, definition: TriggerDefinition) -> CompiledTrigger:
        checks = []
        for index, condition in enumerate(definition.conditions):
            try:
                checks.append(compile_condition(condition, index))
            except ValueError as exc:
                raise InvalidTrigger(("conditions", index, "expression"), str(exc)) from exc
        checks.sort(key=lambda c: (c.cost, c.index))
        return cls(definition, tuple(checks),
                   frozenset(key_of(listen) for listen in definition.listens()))

    @property
    def id(self) -> str:
        return self.definition.id

    def listens_to(self, event: EventView) -> bool:
        return any(matches(listen, event) for listen in self.definition.listens())


@dataclass(frozen=True)
class ConditionResult:
    index: int
    label: str
    holds: bool
    value: Any


@dataclass(frozen=True)
class Evaluation:
    """One trigger on one event: whether it fires and the conditions checked, in the order run."""

    trigger: CompiledTrigger
    fired: bool
    results: tuple[ConditionResult, ...]

    @property
    def failed(self) -> ConditionResult | None:
        return next((r for r in self.results if not r.holds), None)


def evaluate(trigger: CompiledTrigger, scope: Scope, every: bool = False) -> Evaluation:
    """Check the conditions cheapest first and stop at the first that fails, or with ``every``
    (a dry run) check them all."""
    results: list[ConditionResult] = []
    fired = True
    checked = scope.checked
    for check in trigger.checks:
        seen = checked.get(check.key)
        if seen is None:
            seen = checked[check.key] = check.test(scope)
        holds, value = seen
        results.append(ConditionResult(check.index, check.label, holds, value))
        if not holds:
            fired = False
            if not every:
                break
    return Evaluation(trigger, fired, tuple(results))


def firing_id(trigger_id: str, event_id: str) -> str:
    return str(uuid.uuid5(_NS, f"{trigger_id}:{event_id}"))


def request_id(trigger_id: str, event_id: str, step: int, index: int) -> str:
    return str(uuid.uuid5(_NS, f"{trigger_id}:{event_id}:{step}:{index}"))


@dataclass
class Decision:
    """What an event produced: the evaluation record (none when no trigger listened), the
    firings and the action requests."""

    evaluation: TriggerEvaluation | None
    firings: list[TriggerFiring]
    requests: list[ActionRequest]


def decide(event: EventView, triggers: Sequence[CompiledTrigger], scope: Scope) -> Decision:
    verdicts: list[TriggerVerdict] = []
    firings: list[TriggerFiring] = []
    requests: list[ActionRequest] = []
    for trigger in triggers:
        ev = evaluate(trigger, scope)
        d = trigger.definition
        if not ev.fired:
            failed = ev.failed
            verdicts.append(TriggerVerdict(
                trigger_id=d.id, trigger_name=d.name, revision=d.revision,
                outcome=FiringOutcome.NOT_FIRED, failed_condition=failed.label if failed else None,
                failed_value=failed.value if failed else None))
            continue
        fid = firing_id(d.id, event.id)
        ids = [request_id(d.id, event.id, 0, i) for i in range(len(d.effects))]
        firings.append(TriggerFiring(
            id=fid, trigger_id=d.id, trigger_name=d.name, revision=d.revision, event_id=event.id,
            event_name=event.name, external_order_id=event.subject_id,
            outcome=FiringOutcome.FIRED, reasons=[f"holds: {r.label}: {r.value!r}"
                                                  for r in ev.results],
            action_request_ids=ids))
        requests += [ActionRequest(
            id=rid, external_order_id=event.subject_id, trigger_id=d.id, trigger_name=d.name,
            firing_id=fid, event_id=event.id, step=0, effect_index=i, effect=effect,
            order=event.order, customer_id=event.customer_id)
            for i, (rid, effect) in enumerate(zip(ids, d.effects, strict=True))]
        verdicts.append(TriggerVerdict(trigger_id=d.id, trigger_name=d.name, revision=d.revision,
                                       outcome=FiringOutcome.FIRED, firing_id=fid))
    evaluation = None
    if verdicts:
        evaluation = TriggerEvaluation(
            id=str(uuid.uuid5(_NS, f"evaluation:{event.id}")), event_id=event.id,
            event_name=event.name, external_order_id=event.subject_id,
            customer_id=event.customer_id, fired=len(firings), verdicts=verdicts)
    return Decision(evaluation, firings, requests)
