"""What the trigger-engine does with each order event and order action: find the triggers that
listen to it, evaluate them, publish the firings and the action requests."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg
from orderflow_runtime.kafka import EventProducer, Record
from orderflow_schemas import DecodeError, OrderAction, OrderEvent, decode
from orderflow_schemas.topics import ACTION_REQUESTS, ORDER_ACTIONS, ORDER_EVENTS, TRIGGER_FIRINGS
from prometheus_client import Counter

from .engine import EventView, evaluate
from .store import TriggerStore

FIRINGS = Counter("orderflow_trigger_evaluations_total", "Trigger evaluations", ["outcome"])


class Dispatcher:
    def __init__(self, pool: asyncpg.Pool, producer: EventProducer, prefix: str = "") -> None:
        self.pool = pool
        self.producer = producer
        self.store = TriggerStore(pool)
        self._events = ORDER_EVENTS.qualified(prefix)
        self._actions = ORDER_ACTIONS.qualified(prefix)

    async def __call__(self, records: Sequence[Record]) -> None:
        for record in records:
            view = await self._view(record)
            for trigger in await self.store.listening_to(view.name):
                firing, requests = evaluate(trigger, view)
                FIRINGS.labels(firing.outcome.value).inc()
                await asyncio.gather(
                    self.producer.send(TRIGGER_FIRINGS, view.external_order_id, firing),
                    *(self.producer.send(ACTION_REQUESTS, view.external_order_id, r)
                      for r in requests))

    async def _view(self, record: Record) -> EventView:
        if record.topic == self._events:
            event = decode(OrderEvent, record.value)
            await self.pool.execute(
                "INSERT INTO latest_orders(external_order_id, document, customer_id) "
                "VALUES ($1, $2, $3) ON CONFLICT (external_order_id) DO UPDATE "
                "SET document = excluded.document, customer_id = excluded.customer_id",
                event.external_order_id, event.order, event.customer_id)
            return EventView.of_event(event)
        if record.topic == self._actions:
            action = decode(OrderAction, record.value)
            row = await self.pool.fetchrow(
                "SELECT document, customer_id FROM latest_orders WHERE external_order_id = $1",
                action.external_order_id)
            return EventView.of_action(action, row["document"] if row else {},
                                       row["customer_id"] if row else None)
        raise DecodeError(f"trigger-engine does not read topic {record.topic}")
