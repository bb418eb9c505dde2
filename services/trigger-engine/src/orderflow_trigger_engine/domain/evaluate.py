"""Deciding what a trigger does with an event, and explaining it. Pure: no I/O.

Ids are derived from (trigger, event[, step, effect]) so that evaluating the same event again
produces the same firing and the same action requests; the action-executor performs a request
id once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from orderflow_rules import Check, compile_condition
from orderflow_schemas import (
    ActionRequest,
    Condition,
    FiringOutcome,
    TriggerDefinition,
    TriggerEvaluation,
    TriggerFiring,
    TriggerVerdict,
)
from orderflow_schemas.ids import derived
from orderflow_schemas.triggers import Listen, duration

from .events import EventView, Key
from .ledger import Ledger
from .listening import key_of, matches, told_by_key
from .scope import Scope
from .timing import due_at

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
    stops: tuple[Check, ...] = ()
    listens: tuple[Listen, ...] = ()
    delay: timedelta = timedelta(0)  # parsed once, not per firing
    # Every listen is told by its index key alone (a name, a field changed to anything, a
    # status changed from anything): an event found under one of the keys is listened to.
    by_key_alone: bool = False
    # The effects of each step (0: the trigger's own) as wire dicts, made once per revision.
    effects: tuple[tuple[dict[str, Any], ...], ...] = ()
    # Its NOT_FIRED verdict as a wire dict, the failed condition left to fill: most verdicts
    # are that one (four of five in the trigger bench), and a dict made per verdict cost a
    # tenth of the engine's time.
    not_fired: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, definition: TriggerDefinition) -> CompiledTrigger:
        listens = tuple(definition.listens())
        return cls(definition, _compiled(definition.conditions, "conditions"),
                   frozenset(key_of(listen) for listen in listens),
                   _compiled(definition.stop_when, "stopWhen"), listens,
                   definition.delay_time, all(told_by_key(listen) for listen in listens),
                   tuple(tuple(e.to_dict() for e in effects) for effects in
                         [definition.effects, *(step.effects for step in definition.steps)]),
                   _verdict(definition, FiringOutcome.NOT_FIRED))

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def limits_frequency(self) -> bool:
        """Only then does deciding it need to know when it last fired for the order."""
        return self.definition.frequency.mode != "every"

    def listens_to(self, event: EventView) -> bool:
        return any(matches(listen, event) for listen in self.listens)


def _compiled(conditions: Sequence[Condition], where: str) -> tuple[Check, ...]:
    checks = []
    for index, condition in enumerate(conditions):
        try:
            checks.append(compile_condition(condition, index))
        except ValueError as exc:
            raise InvalidTrigger((where, index, "expression"), str(exc)) from exc
    checks.sort(key=lambda c: (c.cost, c.index))
    return tuple(checks)


@dataclass(slots=True)
class ConditionResult:
    # Not frozen: one is made per condition per trigger per event, and a frozen dataclass's
    # __init__ (object.__setattr__ per field) cost a twentieth of the engine's time.
    index: int
    label: str
    holds: bool
    value: Any


@dataclass(slots=True)
class Evaluation:
    """One trigger on one event: whether it fires and the conditions checked, in the order run.
    Not frozen, as ConditionResult: one is made per trigger per event."""

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


def stopped_by(trigger: CompiledTrigger, scope: Scope) -> ConditionResult | None:
    """The first stop condition that holds, if any."""
    for check in trigger.stops:
        holds, value = check.test(scope)  # not shared: the same condition means the opposite
        if holds:
            return ConditionResult(check.index, check.label, holds, value)
    return None


def firing_id(trigger_id: str, event_id: str, step: int = 0) -> str:
    name = f"{trigger_id}:{event_id}" if step == 0 else f"{trigger_id}:{event_id}:step{step}"
    return derived(_NS, name)


def request_id(trigger_id: str, event_id: str, step: int, index: int) -> str:
    return derived(_NS, f"{trigger_id}:{event_id}:{step}:{index}")


def evaluation_id(*parts: object) -> str:
    return derived(_NS, "evaluation:" + ":".join(map(str, parts)))


@dataclass
class Decision:
    """What an event produced, as the bytes that go on the topics: the evaluation record (none
    when no trigger listened), the firings and the action requests."""

    evaluation: bytes | None
    firings: list[bytes]
    requests: list[bytes]
    not_fired: int = 0

    @property
    def fired(self) -> int:
        return len(self.firings)


def fire(trigger: CompiledTrigger, event: EventView, step: int, reasons: list[str],
         firings: list[bytes], requests: list[bytes]) -> str:
    """The firing of ``step`` and its action requests, with ids derived from (trigger, event,
    step, effect): performing the step again makes the same messages, recognised downstream.
    Encoded with ``wire_of``: a firing and its request built as models and dumped cost six
    times more, at one or more per event."""
    d = trigger.definition
    effects = trigger.effects[step]
    fid = firing_id(d.id, event.id, step)
    ids = [request_id(d.id, event.id, step, i) for i in range(len(effects))]
    firings.append(TriggerFiring.wire_of(
        id=fid, trigger_id=d.id, trigger_name=d.name, revision=d.revision, event_id=event.id,
        event_name=event.name, external_order_id=event.subject_id, outcome=FiringOutcome.FIRED,
        reasons=reasons, action_request_ids=ids, step=step))
    requests += [ActionRequest.wire_of(
        id=rid, external_order_id=event.subject_id, trigger_id=d.id, trigger_name=d.name,
        firing_id=fid, event_id=event.id, step=step, effect_index=i, effect=effect,
        order=event.order, customer_id=event.customer_id)
        for i, (rid, effect) in enumerate(zip(ids, effects, strict=True))]
    return fid


_FAILED_CONDITION = TriggerVerdict.model_fields["failed_condition"].alias or "failed_condition"
_FAILED_VALUE = TriggerVerdict.model_fields["failed_value"].alias or "failed_value"


def _verdict(d: TriggerDefinition, outcome: FiringOutcome, **more: Any) -> dict[str, Any]:
    return TriggerVerdict.wire_dict(trigger_id=d.id, trigger_name=d.name, revision=d.revision,
                                    outcome=outcome, **more)


def decide(event: EventView, triggers: Sequence[CompiledTrigger], scope: Scope,
           ledger: Ledger, now: datetime, extra: Sequence[TriggerVerdict] = ()) -> Decision:
    """Evaluate the triggers listening to ``event``; ``extra`` are verdicts the event caused
    otherwise (waiting runs it stopped), reported in the same evaluation record."""
    verdicts = [v.to_dict() for v in extra]
    firings: list[bytes] = []
    requests: list[bytes] = []
    not_fired = 0
    for trigger in triggers:
        ev = evaluate(trigger, scope)
        d = trigger.definition
        if not ev.fired:
            not_fired += 1
            failed = ev.results[-1]  # evaluation stopped at it
            verdict = trigger.not_fired.copy()
            verdict[_FAILED_CONDITION], verdict[_FAILED_VALUE] = failed.label, failed.value
            verdicts.append(verdict)
            continue
        reason = ledger.forbids(d, event.subject_id, now)
        if reason is not None:
            verdicts.append(_verdict(d, FiringOutcome.SKIPPED, reason=reason))
            continue
        wait = trigger.delay
        # A delay counts from when the event happened (an event read late waits less); no
        # delay means now, whatever the clocks upstream say.
        due = due_at((event.at or now) if wait else now, wait, d.schedule)
        if due > now:
            verdicts.append(_verdict(d, FiringOutcome.SCHEDULED, step=0, due_at=due,
                                     run_id=ledger.schedule(d, event, 0, due)))
            continue
        fid = fire(trigger, event, 0, [f"holds: {r.label}: {r.value!r}" for r in ev.results],
                   firings, requests)
        ledger.fired(d, event.subject_id, now)
        run: str | None = None
        next_due: datetime | None = None
        if d.steps:
            next_due = due_at(now, duration(d.steps[0].after), d.schedule)
            run = ledger.schedule(d, event, 1, next_due)
        verdicts.append(_verdict(d, FiringOutcome.FIRED, firing_id=fid, run_id=run, step=0,
                                 due_at=next_due))
    evaluation = None
    if verdicts:
        evaluation = TriggerEvaluation.wire_of(
            id=evaluation_id(event.id), event_id=event.id, event_name=event.name,
            external_order_id=event.subject_id, customer_id=event.customer_id,
            fired=len(firings), verdicts=verdicts)
    return Decision(evaluation, firings, requests, not_fired)
