"""The state the engine keeps for conditions: the latest order (forward-only by the event's
``sequence``; 0, unknown, is accepted) and each customer's figures. One batch loads what its
records touch at once, changes it in memory record by record, and saves it at once, in the
transaction that records the batch's decisions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from orderflow_schemas import OrderEvent

from ..domain.customers import Stats, contribution, customer_key, moved, withdrawn


@dataclass(frozen=True)
class OrderState:
    document: dict[str, Any]
    customer_id: str | None
    sequence: int


class BatchState:
    def __init__(self, orders: dict[str, OrderState], customers: dict[str, Stats]) -> None:
        self.orders = orders
        self.customers = customers
        self.changed_orders: set[str] = set()
        self.changed_customers: set[str] = set()

    def order(self, external_order_id: str) -> OrderState | None:
        return self.orders.get(external_order_id)

    def stats(self, key: str | None) -> Stats:
        return self.customers.get(key, Stats()) if key else Stats()

    def apply(self, event: OrderEvent) -> None:
        """Take the event's order as the latest unless a later one is known already."""
        held = self.orders.get(event.external_order_id)
        if held is not None and event.sequence and held.sequence \
                and event.sequence <= held.sequence:
            return  # an older change arriving late: the order and its customer stay
        new = contribution(event.customer_id, event.order)
        old = contribution(held.customer_id, held.document) if held is not None else None
        if old is not None and old.customer_key and old.customer_key != new.customer_key:
            self._set(old.customer_key, withdrawn(self.stats(old.customer_key), old))
        if new.customer_key:
            self._set(new.customer_key, moved(self.stats(new.customer_key), old, new))
        self.orders[event.external_order_id] = OrderState(event.order, event.customer_id,
                                                          event.sequence)
        self.changed_orders.add(event.external_order_id)

    def _set(self, key: str, stats: Stats) -> None:
        self.customers[key] = stats
        self.changed_customers.add(key)


async def load(conn: asyncpg.Connection, order_ids: Iterable[str],
               events: Iterable[OrderEvent]) -> BatchState:
    rows = await conn.fetch(
        "SELECT external_order_id, document, customer_id, sequence FROM latest_orders "
        "WHERE external_order_id = ANY($1::text[])", list(set(order_ids)))
    orders = {r["external_order_id"]: OrderState(r["document"], r["customer_id"], r["sequence"])
              for r in rows}
    keys = {customer_key(e.customer_id, e.order) for e in events}
    keys |= {customer_key(o.customer_id, o.document) for o in orders.values()}
    keys.discard(None)
    stats = await conn.fetch(
        "SELECT customer_key, delivered_orders, total_spent, last_order_date FROM customer_stats "
        "WHERE customer_key = ANY($1::text[])", list(keys))
    return BatchState(orders, {r["customer_key"]: Stats(r["delivered_orders"], r["total_spent"],
                                                        r["last_order_date"]) for r in stats})


async def save(conn: asyncpg.Connection, state: BatchState) -> None:
    orders = [(k, state.orders[k]) for k in sorted(state.changed_orders)]
    if orders:
        await conn.execute(
            "INSERT INTO latest_orders(external_order_id, document, customer_id, sequence) "
            "SELECT k, d::jsonb, c, s FROM unnest($1::text[], $2::text[], $3::text[], "
            "$4::bigint[]) AS t(k, d, c, s) "
            "ON CONFLICT (external_order_id) DO UPDATE SET document = excluded.document, "
            "customer_id = excluded.customer_id, sequence = excluded.sequence",
            [k for k, _ in orders], [orjson.dumps(o.document).decode() for _, o in orders],
            [o.customer_id for _, o in orders], [o.sequence for _, o in orders])
    customers = [(k, state.customers[k]) for k in sorted(state.changed_customers)]
    if customers:
        await conn.execute(
            "INSERT INTO customer_stats(customer_key, delivered_orders, total_spent, "
            "last_order_date) SELECT * FROM unnest($1::text[], $2::int[], $3::float8[], "
            "$4::text[]) ON CONFLICT (customer_key) DO UPDATE SET "
            "delivered_orders = excluded.delivered_orders, total_spent = excluded.total_spent, "
            "last_order_date = excluded.last_order_date",
            [k for k, _ in customers], [s.delivered_orders for _, s in customers],
            [s.total_spent for _, s in customers], [s.last_order_date for _, s in customers])
