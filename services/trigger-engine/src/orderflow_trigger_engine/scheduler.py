"""The scheduler: performs waiting runs when they come due, on every worker.

Each pass claims up to ``batch`` due runs with ``FOR UPDATE SKIP LOCKED`` in one transaction, so
that two workers never take the same run; it reads the orders as they are now, decides each
run's step (``domain/steps.py``), moves the runs on and writes what they emit to the outbox, then
commits. A worker killed mid-pass commits nothing and its locks go with its connection: another
worker (or itself, restarted) performs those runs. Message ids are derived from (trigger, event,
step, effect), so a pass repeated after a publish that failed is recognised downstream."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter as Tally
from datetime import UTC, datetime
from typing import Any

import asyncpg
from confluent_kafka import KafkaException
from orderflow_runtime.kafka import EventProducer
from orderflow_schemas import TriggerEvaluation
from orderflow_schemas.topics import ACTION_REQUESTS, TRIGGER_EVALUATIONS, TRIGGER_FIRINGS
from prometheus_client import Counter, Histogram

from .domain.customers import customer_key, customer_view
from .domain.evaluate import evaluation_id
from .domain.events import EventView
from .domain.ledger import Ledger
from .domain.scope import Scope
from .domain.steps import advance
from .store import outbox, runs, state
from .store.revisions import Revisions

log = logging.getLogger(__name__)
STEPS = Counter("orderflow_trigger_run_steps_total", "Run steps decided when due", ["state"])
LATENESS = Histogram("orderflow_trigger_run_lateness_seconds", "How late a due step was decided",
                     buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))


class Scheduler:
    def __init__(self, pool: asyncpg.Pool, producer: EventProducer, revisions: Revisions,
                 batch: int = 1000, poll_seconds: float = 0.2) -> None:
        self.pool = pool
        self.producer = producer
        self.revisions = revisions
        self.batch = batch
        self.poll_seconds = poll_seconds
        self._crowd = asyncio.Event()  # a pass found a full batch: more are due than one takes

    async def run_forever(self, helper: bool = False) -> None:
        """Pass after pass. The first loop polls when idle; a ``helper`` loop (more passes at
        once, so that one decides in Python while another waits on PostgreSQL) runs only while
        passes come back full, so an idle worker polls once per ``poll_seconds``, not once per
        loop."""
        # One pass publishes while the next one decides: what a pass emits is in the outbox
        # already, so the broker's round trip need not hold up the next claim.
        publishing: asyncio.Task[None] | None = None
        while True:
            if helper:
                await self._crowd.wait()
            try:
                done, emitted = await self.decide()
                if publishing is not None:
                    await publishing
                publishing = asyncio.create_task(self._publish(*emitted)) if emitted else None
            except (OSError, asyncpg.PostgresError, KafkaException) as exc:
                log.warning("scheduler pass failed, will retry", extra={"error": repr(exc)})
                done, publishing = 0, None
            if done >= self.batch:
                self._crowd.set()
            else:
                self._crowd.clear()
                if not helper:
                    await asyncio.sleep(self.poll_seconds)

    async def _publish(self, seq: int, out: list[outbox.Outgoing]) -> None:
        try:
            await outbox.publish(self.pool, self.producer, seq, out)
        except (OSError, asyncpg.PostgresError, KafkaException) as exc:  # the relay retries
            log.warning("scheduler publish failed, the outbox relay will retry",
                        extra={"error": repr(exc)})

    async def decide(self) -> tuple[int, tuple[int, list[outbox.Outgoing]] | None]:
        """One pass: how many runs it decided, and the outbox row it wrote (not published)."""
        async with self.pool.acquire() as conn, conn.transaction():
            due = await runs.claim_due(conn, self.batch)
            if not due:
                return 0, None
            now = datetime.now(UTC)
            order_ids = {r["external_order_id"] for r in due}
            orders = await state.load(conn, order_ids, ())
            revisions: dict[tuple[str, int], Any] = {}
            for pinned in {(r["trigger_id"], r["revision"]) for r in due}:
                revisions[pinned] = await self.revisions.get(conn, *pinned)
            # When a trigger last fired matters only to a step 0 with a frequency limit; reading
            # (and locking) it for every due run cost a statement over the whole batch.
            limited = sorted({(r["trigger_id"], r["external_order_id"]) for r in due
                              if r["step"] == 0 and (t := revisions[
                                  (r["trigger_id"], r["revision"])]) and t.limits_frequency})
            ledger = await runs.last_fired_locked(conn, limited) if limited else Ledger()
            out: list[outbox.Outgoing] = []
            moves: list[runs.Move] = []
            decided: Tally[str] = Tally()
            for row in due:
                LATENESS.observe((now - row["due_at"]).total_seconds())
                key = row["external_order_id"]
                trigger = revisions[(row["trigger_id"], row["revision"])]
                if trigger is None:
                    moves.append(runs.Move(row["run_id"], "cancelled", row["step"], now,
                                           "the trigger revision is gone"))
                    continue
                held = orders.order(key)
                view = EventView.from_json(row["event"], held.document if held else {},
                                           held.customer_id if held else None)
                stats = orders.stats(customer_key(view.customer_id, view.order))
                scope = Scope(view, customer_view(view.customer_id, view.order, stats))
                step = advance(trigger, row["run_id"], row["step"], view, scope, ledger, now)
                moves.append(runs.Move(row["run_id"], step.state, step.step, step.due,
                                       step.reason))
                decided[step.state] += 1
                out += [(TRIGGER_FIRINGS, key, f) for f in step.firings]
                out += [(ACTION_REQUESTS, key, r) for r in step.requests]
                out.append((TRIGGER_EVALUATIONS, key, TriggerEvaluation.wire_of(
                    id=evaluation_id(row["run_id"], row["step"]), event_id=view.id,
                    event_name=view.name, external_order_id=key, customer_id=view.customer_id,
                    fired=len(step.firings), verdicts=[step.verdict])))
            for state_name, n in decided.items():
                STEPS.labels(state_name).inc(n)
            await runs.move(conn, moves)
            await runs.save(conn, ledger)
            seq = await outbox.add(conn, out) if out else None
        return len(due), (seq, out) if seq is not None else None
