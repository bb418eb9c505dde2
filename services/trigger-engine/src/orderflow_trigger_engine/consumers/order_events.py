"""Order events and order actions in, decisions out, one PostgreSQL transaction per batch.

In that transaction: the partitions' positions are checked and advanced (a record handed over
again after a crash or a rebalance is recognised), event ids already decided are skipped (a copy
of an event published twice is not evaluated again), the order and customer state the
evaluations saw is saved, and what they produced goes to the outbox. So the decision for an event
is fixed when it commits: the trigger revisions and state it saw cannot change it afterwards.
A record that cannot be decoded becomes a dead letter in the same outbox row. Anything else that
fails (the database, the broker) raises, and ``SafeHandler`` retries the batch."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from orderflow_runtime import positions
from orderflow_runtime.consumer import RetryBatch
from orderflow_runtime.kafka import EventProducer, Record
from orderflow_schemas import DeadLetter, DecodeError, OrderAction, OrderEvent
from orderflow_schemas.codec import load
from orderflow_schemas.topics import (
    ACTION_REQUESTS,
    DLQ,
    ORDER_ACTIONS,
    ORDER_EVENTS,
    TRIGGER_EVALUATIONS,
    TRIGGER_FIRINGS,
)
from prometheus_client import Counter
from pydantic import ValidationError

from ..domain.customers import customer_key, customer_view
from ..domain.evaluate import decide
from ..domain.events import EventView
from ..domain.scope import Scope
from ..store import outbox, runs, state
from ..store.feed import TriggerFeed
from ..store.revisions import Revisions
from .stops import Stops

log = logging.getLogger(__name__)
POISON = Counter("orderflow_trigger_poison_total", "Records the engine dead-lettered")
EVALUATED = Counter("orderflow_trigger_evaluations_total", "Trigger evaluations", ["outcome"])
FIRED, NOT_FIRED = EVALUATED.labels("fired"), EVALUATED.labels("not_fired")


@dataclass(frozen=True)
class Item:
    record: Record
    message: OrderEvent | OrderAction
    details: dict[str, Any]  # the message's JSON, without the order


def _decode(record: Record, model: type[OrderEvent] | type[OrderAction]) -> Item:
    data, _ = load(model, record.value)
    try:
        message = model.model_validate(data)
    except ValidationError as exc:
        raise DecodeError(f"invalid {model.TYPE}: {exc}") from exc
    data.pop("order", None)
    return Item(record, message, data)


def _report(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("publishing a batch failed: the next batch, or the outbox relay, retries",
                    extra={"error": repr(task.exception())})


class OrderEventsHandler:
    """The handler of ``orderflow.order-events`` and ``orderflow.order-actions``."""

    def __init__(self, pool: asyncpg.Pool, producer: EventProducer, feed: TriggerFeed,
                 prefix: str = "") -> None:
        self.pool = pool
        self.producer = producer
        self.feed = feed
        self.revisions = Revisions(feed)
        self._models: dict[str, type[OrderEvent] | type[OrderAction]] = {
            ORDER_EVENTS.qualified(prefix): OrderEvent,
            ORDER_ACTIONS.qualified(prefix): OrderAction}
        self._unpublished: list[tuple[int, list[outbox.Outgoing]]] = []
        self._publishing: asyncio.Task[None] | None = None

    def _item(self, record: Record) -> Item:
        model = self._models.get(record.topic)
        if model is None:
            raise DecodeError(f"trigger-engine does not read topic {record.topic}")
        return _decode(record, model)

    async def __call__(self, records: Sequence[Record]) -> None:
        """Decide the batch and commit; its records are published while the next batch is
        decided (the broker's acks for a batch took as long as deciding one). The outbox row
        holds them until acked, so committing the offsets before that loses nothing."""
        items, poison = self._items(records)
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await positions.unseen(conn, items, lambda i: i.record)
            unseen_poison = await positions.unseen(conn, poison, lambda p: p[0])
            out = await self._decide(conn, fresh) if fresh else []
            out += [(DLQ, r.key_str, letter) for r, letter in unseen_poison]
            seq = await outbox.add(conn, out) if out else None
            await positions.advance(conn, records)
        try:
            await self.drain()  # the previous batch's first: per-order order on the topics
        finally:
            if seq is not None:
                self._unpublished.append((seq, out))
        self._publishing = asyncio.create_task(self.flush())
        self._publishing.add_done_callback(_report)

    async def drain(self) -> None:
        """Wait for the batch being published; raises (and keeps it queued) if that failed,
        so that the handler is retried and publishes it again before anything newer."""
        publishing, self._publishing = self._publishing, None
        if publishing is not None:
            await publishing

    def _items(self, records: Sequence[Record]) -> tuple[list[Item], list[tuple[Record, bytes]]]:
        """The records decoded, and the dead letters of those that cannot be: written with the
        batch, so that one poison record does not send the batch through record by record."""
        items: list[Item] = []
        poison: list[tuple[Record, bytes]] = []
        for record in records:
            try:
                items.append(self._item(record))
            except DecodeError as exc:
                log.warning("dead-lettered", extra={"position": record.position,
                                                    "reason": str(exc)})
                POISON.inc()
                poison.append((record, DeadLetter.of(
                    service="trigger-engine", reason=str(exc), value=record.value,
                    key=record.key, topic=record.topic, partition=record.partition,
                    offset=record.offset, external_order_id=record.key_str).to_wire()))
        return items, poison

    async def flush(self) -> None:
        while self._unpublished:
            seq, out = self._unpublished[0]
            await outbox.publish(self.pool, self.producer, seq, out)
            self._unpublished.pop(0)

    async def _decide(self, conn: asyncpg.Connection,
                      items: Sequence[Item]) -> list[outbox.Outgoing]:
        undecided = set(await conn.fetchval(
            "WITH n AS (INSERT INTO decided_events(event_id) SELECT unnest($1::text[]) "
            "ON CONFLICT DO NOTHING RETURNING event_id) SELECT coalesce(array_agg(event_id), "
            "'{}') FROM n", [i.message.id for i in items]))
        events = [i.message for i in items if isinstance(i.message, OrderEvent)]
        order_ids = [i.message.external_order_id for i in items]
        index = self.feed.index
        # When triggers last fired matters only to frequency limits; most merchants have none.
        limited = index.limits_frequency
        batch = await state.load(conn, order_ids, events)
        ledger, waiting = await runs.load(conn, order_ids, fires=limited)
        stops = Stops(conn, self.revisions, waiting)
        out: list[outbox.Outgoing] = []
        now = datetime.now(UTC)
        for item in items:
            m = item.message
            if isinstance(m, OrderEvent):
                batch.apply(m)
                view = EventView.of_event(m, item.details)
            else:
                held = batch.order(m.external_order_id)
                view = EventView.of_action(m, held.document if held else {},
                                           held.customer_id if held else None)
            if m.id not in undecided:
                continue  # decided before: its messages were published then
            undecided.discard(m.id)
            triggers = index.listening(view)
            if not triggers and not stops.any_for(view.subject_id):
                continue
            stats = batch.stats(customer_key(view.customer_id, view.order))
            scope = Scope(view, customer_view(view.customer_id, view.order, stats))
            stopped = await stops.check(view.subject_id, scope, ledger)
            decision = decide(view, triggers, scope, ledger, now, stopped)
            stops.started(ledger)
            key = view.subject_id
            out += [(TRIGGER_FIRINGS, key, f) for f in decision.firings]
            out += [(ACTION_REQUESTS, key, r) for r in decision.requests]
            if decision.evaluation is not None:
                out.append((TRIGGER_EVALUATIONS, key, decision.evaluation))
                FIRED.inc(decision.fired)
                NOT_FIRED.inc(decision.not_fired)
        if index.limits_frequency and not limited:
            # A trigger with a limit arrived while the batch was decided without the last
            # firings: decide it again (the transaction rolls back) knowing them.
            raise RetryBatch("a trigger with a frequency limit arrived during the batch")
        await state.save(conn, batch)
        await runs.save(conn, ledger)
        await runs.move(conn, stops.moves)
        return out
