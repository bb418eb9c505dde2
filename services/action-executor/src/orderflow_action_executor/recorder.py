"""Recording attempts, many at a time: one transaction writes a batch of outcomes (fenced: only
the claims that still hold their request), their results and whatever they emit into the outbox,
then one publish. One transaction and one broker round trip per delivery was most of the
executor's time.

A worker that lost its claim (its lease expired and the request was claimed again) records
nothing and publishes nothing: its rows are left out by the fence."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
from orderflow_runtime import outbox
from orderflow_runtime.kafka import EventProducer
from orderflow_schemas import ActionOutcome, ActionRequest, ActionResult, DeadLetter
from orderflow_schemas.base import utcnow
from orderflow_schemas.ids import derived
from orderflow_schemas.topics import ACTION_RESULTS, DLQ

from .effects.outcome import Attempt
from .endpoints import store as endpoints
from .retry import Decision

log = logging.getLogger(__name__)
_NS = uuid.UUID("0b7e9a52-52b5-4a4b-8d0e-7f5d55f0c6a1")
BATCH = 500

RECORD = """
UPDATE requests r SET state = u.state, last_error = u.last_error, lease_until = NULL,
    updated_at = now(), next_attempt_at = now() + make_interval(secs => u.wait),
    endpoint_id = u.endpoint_id, dead_at = CASE WHEN u.state = 'dead' THEN now() END
FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::float8[], $6::text[])
    AS u(request_id, attempts, state, last_error, wait, endpoint_id)
WHERE r.request_id = u.request_id AND r.attempts = u.attempts AND r.state = 'pending'
  AND r.lease_until >= now()
RETURNING r.request_id
"""


@dataclass(frozen=True)
class Done:
    """An attempt made, to be recorded."""

    request: ActionRequest
    number: int
    attempt: Attempt
    decision: Decision
    duration_ms: float
    endpoint_id: str | None

    def messages(self) -> list[tuple[Any, str | None, Any]]:
        r, d = self.request, self.decision
        result = ActionResult(
            id=derived(_NS, f"{r.id}:{self.number}"), request_id=r.id,
            external_order_id=r.external_order_id, trigger_id=r.trigger_id,
            effect_type=r.effect.type, attempt=self.number, outcome=d.outcome, detail=d.detail,
            http_status=self.attempt.http_status, duration_ms=round(self.duration_ms, 1),
            endpoint_id=self.endpoint_id,
            next_attempt_at=utcnow() + timedelta(seconds=d.wait) if d.wait is not None else None)
        out: list[tuple[Any, str | None, Any]] = [(ACTION_RESULTS, r.external_order_id, result)]
        if d.outcome is ActionOutcome.SUCCEEDED:
            out += self.attempt.emits
        if d.outcome is ActionOutcome.DEAD:
            out.append((DLQ, r.external_order_id, DeadLetter.of(
                service="action-executor", reason=d.detail, value=r.to_wire(),
                key=r.external_order_id.encode(), external_order_id=r.external_order_id)))
        return out


class Recorder:
    def __init__(self, pool: asyncpg.Pool, producer: EventProducer,
                 store: endpoints.EndpointStore) -> None:
        self.pool = pool
        self.producer = producer
        self.store = store
        self._queue: asyncio.Queue[tuple[Done, asyncio.Future[bool]]] = asyncio.Queue()

    async def record(self, done: Done) -> bool:
        """Wait until ``done`` is recorded (committed, with what it emits in the outbox); False
        when its claim was lost. Publishing follows: its caller's slot does not wait for the
        broker's ack (a quarter of a delivery's time on the dev broker), and what a failed
        publish leaves is the outbox relay's."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((done, future))
        return await future

    async def run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                kept, pending = await self._write([d for d, _ in batch])
            except Exception as exc:  # the database: the claims' leases expire and their
                for _, future in batch:  # requests are attempted again, nothing is lost
                    future.set_exception(exc)
                continue
            for done, future in batch:
                future.set_result(done.request.id in kept)
            try:
                await outbox.publish(self.pool, self.producer, pending)
            except Exception:  # recorded all the same: the outbox relay publishes it later
                log.exception("publishing recorded attempts failed; the outbox relay will")

    async def _write(self, batch: list[Done]) -> tuple[set[str], list[outbox.Pending]]:
        async with self.pool.acquire() as conn, conn.transaction():
            for d in batch:
                if d.attempt.gone and d.endpoint_id:
                    await endpoints.disable(conn, d.endpoint_id, d.attempt.detail)
                    self.store.invalidate()
            rows = await conn.fetch(
                RECORD, [d.request.id for d in batch], [d.number for d in batch],
                [d.decision.state for d in batch],
                [None if d.decision.outcome is ActionOutcome.SUCCEEDED else d.decision.detail
                 for d in batch], [d.decision.wait or 0.0 for d in batch],
                [d.endpoint_id for d in batch])
            kept = {r["request_id"] for r in rows}
            for d in batch:
                if d.request.id not in kept:
                    log.warning("lease lost; attempt not recorded",
                                extra={"request_id": d.request.id, "attempt": d.number})
            pending = await outbox.add(conn, [m for d in batch if d.request.id in kept
                                              for m in d.messages()])
        return kept, pending
