"""Stop conditions checked as events arrive: every event of an order is checked against the
stop conditions of the runs waiting for it, including runs an earlier event of the same batch
started. Order events come in order per order, so a cancellation that arrives before a step is
due stops it, even one that arrives a moment after the run started."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from orderflow_schemas import FiringOutcome, TriggerVerdict

from ..domain.evaluate import stopped_by
from ..domain.ledger import Ledger
from ..domain.scope import Scope
from ..store.revisions import Revisions
from ..store.runs import Move


@dataclass(frozen=True)
class Waiting:
    run_id: str
    trigger_id: str
    revision: int
    step: int
    due_at: datetime


class Stops:
    def __init__(self, conn: asyncpg.Connection, revisions: Revisions,
                 waiting: list[Any]) -> None:
        self.conn = conn
        self.revisions = revisions
        self.by_order: dict[str, list[Waiting]] = {}
        for r in waiting:
            self._add(r["external_order_id"], Waiting(r["run_id"], r["trigger_id"],
                                                      r["revision"], r["step"], r["due_at"]))
        self.moves: list[Move] = []
        self._known_new = 0

    def _add(self, order_id: str, run: Waiting) -> None:
        self.by_order.setdefault(order_id, []).append(run)

    def any_for(self, order_id: str) -> bool:
        return bool(self.by_order.get(order_id))

    async def check(self, order_id: str, scope: Scope, ledger: Ledger) -> list[TriggerVerdict]:
        """Verdicts for the runs of the order that a stop condition ends on this event."""
        verdicts: list[TriggerVerdict] = []
        held = self.by_order.get(order_id)
        for run in list(held or ()):
            trigger = await self.revisions.get(self.conn, run.trigger_id, run.revision)
            if trigger is None or not trigger.stops:
                continue
            hit = stopped_by(trigger, scope)
            if hit is None:
                continue
            reason = f"stopped by: {hit.label}: {hit.value!r}"
            d = trigger.definition
            verdicts.append(TriggerVerdict(
                trigger_id=d.id, trigger_name=d.name, revision=d.revision,
                outcome=FiringOutcome.STOPPED, run_id=run.run_id, step=run.step,
                failed_condition=hit.label, failed_value=hit.value, reason=reason))
            self.moves.append(Move(run.run_id, "stopped", run.step, run.due_at, reason))
            assert held is not None
            held.remove(run)
            if not any(r.trigger_id == run.trigger_id for r in held):
                ledger.waiting.discard((run.trigger_id, order_id))
        return verdicts

    def started(self, ledger: Ledger) -> None:
        """Take in the runs the last decision started."""
        for new in ledger.new_runs[self._known_new:]:
            self._add(new.external_order_id, Waiting(new.run_id, new.trigger_id, new.revision,
                                                     new.step, new.due_at))
        self._known_new = len(ledger.new_runs)
