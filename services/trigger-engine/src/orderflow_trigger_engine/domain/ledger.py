"""What one batch of decisions knows of runs and past firings, and changes as it decides: the
runs waiting for each (trigger, order), when each trigger last fired for each order, and the runs
and firings the decisions add. Loaded before the batch, saved with it (``store/runs.py``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orderflow_schemas import TriggerDefinition
from orderflow_schemas.ids import derived
from orderflow_schemas.triggers import duration

from .events import EventView

_NS = uuid.UUID("7b0b6f55-3c36-4f0e-8d8e-5a4c1c9e2d70")
Pair = tuple[str, str]  # (trigger id, external order id)


def run_id(trigger_id: str, event_id: str) -> str:
    return derived(_NS, f"{trigger_id}:{event_id}")


@dataclass(frozen=True)
class NewRun:
    run_id: str
    trigger_id: str
    revision: int
    external_order_id: str
    event_id: str
    event: dict[str, Any]
    step: int
    due_at: datetime


@dataclass
class Ledger:
    waiting: set[Pair] = field(default_factory=set)
    last_fired: dict[Pair, datetime] = field(default_factory=dict)
    new_runs: list[NewRun] = field(default_factory=list)
    fires: dict[Pair, datetime] = field(default_factory=dict)

    def forbids(self, d: TriggerDefinition, order_id: str, now: datetime) -> str | None:
        """Why the trigger may not start for the order now, if it may not."""
        pair = (d.id, order_id)
        if d.block_while_running and pair in self.waiting:
            return "a run of this trigger is in progress for the order"
        return frequency_forbids(d, self.last_fired.get(pair), now)

    def fired(self, d: TriggerDefinition, order_id: str, now: datetime) -> None:
        self.last_fired[(d.id, order_id)] = self.fires[(d.id, order_id)] = now

    def schedule(self, d: TriggerDefinition, event: EventView, step: int, due: datetime) -> str:
        rid = run_id(d.id, event.id)
        self.new_runs.append(NewRun(rid, d.id, d.revision, event.subject_id, event.id,
                                    event.to_json(), step, due))
        self.waiting.add((d.id, event.subject_id))
        return rid


def frequency_forbids(d: TriggerDefinition, last: datetime | None, now: datetime) -> str | None:
    f = d.frequency
    if last is None or f.mode == "every":
        return None
    if f.mode == "once":
        return f"fires once per order: it fired at {last.isoformat()}"
    if f.period is not None and now < last + duration(f.period):
        return f"fires at most once per {f.period}: it fired at {last.isoformat()}"
    return None
