"""A waiting run that has come due: what its step does, on the order as it is now. Pure.

Step 0 is the trigger's own effects after a delay or a closed window: its conditions are checked
again, then its frequency. Every step first checks the stop conditions. The run then waits for
its next step, or is finished."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orderflow_schemas import FiringOutcome, TriggerVerdict
from orderflow_schemas.triggers import duration

from .evaluate import CompiledTrigger, evaluate, fire, stopped_by
from .events import EventView
from .ledger import Ledger
from .scope import Scope
from .timing import due_at


@dataclass
class Advance:
    verdict: dict[str, Any]  # a TriggerVerdict on the wire (``wire_dict``)
    state: str  # the run's state afterwards: waiting, done, stopped, not_fired, skipped
    step: int
    due: datetime
    reason: str | None = None
    firings: list[bytes] = field(default_factory=list)  # on the wire (``fire``)
    requests: list[bytes] = field(default_factory=list)


def advance(trigger: CompiledTrigger, run_id: str, step: int, event: EventView, scope: Scope,
            ledger: Ledger, now: datetime) -> Advance:
    d = trigger.definition

    def verdict(outcome: FiringOutcome, **more: object) -> dict[str, Any]:
        # As a wire dict, not a model: a crowd of due runs makes thousands a second.
        return TriggerVerdict.wire_dict(trigger_id=d.id, trigger_name=d.name,
                                        revision=d.revision, outcome=outcome, run_id=run_id,
                                        step=step, **more)

    stop = stopped_by(trigger, scope)
    if stop is not None:
        reason = f"stopped by: {stop.label}: {stop.value!r}"
        return Advance(verdict(FiringOutcome.STOPPED, failed_condition=stop.label,
                               failed_value=stop.value, reason=reason),
                       "stopped", step, now, reason)
    if step == 0:
        ev = evaluate(trigger, scope)
        failed = ev.failed
        if failed is not None:
            reason = f"no longer held when due: {failed.label}: {failed.value!r}"
            return Advance(verdict(FiringOutcome.NOT_FIRED, failed_condition=failed.label,
                                   failed_value=failed.value, reason=reason),
                           "not_fired", step, now, reason)
        skip = ledger.forbids(d, event.subject_id, now)
        if skip is not None:
            return Advance(verdict(FiringOutcome.SKIPPED, reason=skip), "skipped", step, now,
                           skip)
        reasons = [f"holds when due: {r.label}: {r.value!r}" for r in ev.results]
        ledger.fired(d, event.subject_id, now)
    else:
        reasons = [f"workflow step {step}"]
    firings: list[bytes] = []
    requests: list[bytes] = []
    fid = fire(trigger, event, step, reasons, firings, requests)
    if step < len(d.steps):
        due = due_at(now, duration(d.steps[step].after), d.schedule)
        return Advance(verdict(FiringOutcome.FIRED, firing_id=fid, due_at=due), "waiting",
                       step + 1, due, None, firings, requests)
    return Advance(verdict(FiringOutcome.FIRED, firing_id=fid), "done", step, now, None,
                   firings, requests)
