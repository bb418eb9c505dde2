"""The orders the executor knows, from ``orderflow.order-events``: the latest state of each,
forward-only by the event's sequence (0, unknown, is taken), so that a late older event does not
move it back. Idempotent: the same event again changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson
from orderflow_runtime.kafka import Record
from orderflow_schemas import OrderEvent, decode


class KnownOrders:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def __call__(self, records: Sequence[Record]) -> None:
        latest: dict[str, OrderEvent] = {}
        for record in records:
            event = decode(OrderEvent, record.value)  # DecodeError: poison, dead-lettered
            held = latest.get(event.external_order_id)
            if held is None or event.sequence >= held.sequence or not event.sequence:
                latest[event.external_order_id] = event
        if not latest:
            return
        events = list(latest.values())
        await self.pool.execute(
            "INSERT INTO known_orders(external_order_id, document, customer_id, sequence) "
            "SELECT k, d::jsonb, c, s FROM unnest($1::text[], $2::text[], $3::text[], "
            "$4::bigint[]) AS t(k, d, c, s) ON CONFLICT (external_order_id) DO UPDATE SET "
            "document = excluded.document, customer_id = excluded.customer_id, "
            "sequence = excluded.sequence, updated_at = now() "
            "WHERE excluded.sequence = 0 OR known_orders.sequence <= excluded.sequence",
            [e.external_order_id for e in events], [orjson.dumps(e.order).decode() for e in events],
            [e.customer_id for e in events], [e.sequence for e in events])


async def order(conn: asyncpg.Connection | asyncpg.Pool,
                external_order_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT document, customer_id FROM known_orders "
                              "WHERE external_order_id = $1", external_order_id)
    if row is None:
        return None
    return {"document": row["document"], "customer_id": row["customer_id"]}
