"""The order processor: the one stage that sees each order's versions in order (the inbound
topic is keyed by externalOrderId) and turns them into events.

Changes made inside orderflow (``orderflow.orders.changes``, the executor's internal effects)
are merged here onto the order as it stands when they are reached, so that a change never puts
back an older version that arrived in between; a change to an order ingest has not processed,
or one that leaves the order invalid, goes to the DLQ with the reason.

Per batch: the customers matched (``customers.py``), then in one transaction the new order
states, the events (outbox) and the next offset of each partition. Records below a stored
offset were processed already and are skipped, so a redelivery after a crash changes nothing;
the outbox publishes what a crash left behind."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson
from orderflow_runtime import outbox, positions
from orderflow_runtime.guards import problem_in
from orderflow_runtime.kafka import EventProducer, Record
from orderflow_schemas import DecodeError, OrderChanges, OrderDocument, OrderEvent, decode
from orderflow_schemas.ids import derived
from orderflow_schemas.topics import ORDER_CHANGES, ORDER_EVENTS

from .customers import link_customers
from .events import event_for

EVENT_ID_HEADER = "orderflow-event-id"
_NS = uuid.UUID("6f0c35a4-5a7e-4bb5-9c43-4f0d1f7e2b10")


def event_id_of(record: Record) -> str:
    """The id given at HTTP intake, else one derived from the record's position (stable across
    redeliveries)."""
    given = record.headers.get(EVENT_ID_HEADER)
    return given.decode() if given else derived(_NS, record.position)


def _document(record: Record) -> OrderDocument:
    """The record's order document; one that holds a NUL character (JSON ``\\u0000``), which no
    read model could store, is poison like one that is not valid."""
    document = decode(OrderDocument, record.value)
    if record.value is not None and b"\\u0000" in record.value:  # rare: look closer
        problem = problem_in(document.model_dump(mode="json"), max_depth=10_000)
        if problem:
            raise DecodeError(f"{problem[0]}: {problem[1]}")
    return document


def _merged(current: dict[str, dict[str, Any]], item: OrderChanges) -> OrderDocument:
    base = current.get(item.external_order_id)
    if base is None:
        raise DecodeError(f"changes to order {item.external_order_id!r}, which ingest has not "
                          "processed")
    if item.changes.get("externalOrderId", item.external_order_id) != item.external_order_id:
        raise DecodeError("changes cannot give an order another externalOrderId")
    return decode(OrderDocument, orjson.dumps({**base, **item.changes}))


class OrderProcessor:
    def __init__(self, pool: asyncpg.Pool, producer: EventProducer, prefix: str = "") -> None:
        self.pool = pool
        self.producer = producer
        self._changes_topic = ORDER_CHANGES.qualified(prefix)

    async def _documents(self, conn: asyncpg.Connection,
                         records: Sequence[Record]) -> list[tuple[Record, OrderDocument]]:
        """Each record's order. An inbound record carries the order whole; changes
        are merged onto the order as it stands before them (the last version earlier in this
        batch, else the stored one). DecodeError: poison."""
        items = [(r, decode(OrderChanges, r.value) if r.topic == self._changes_topic
                  else _document(r)) for r in records]
        wanted = {i.external_order_id for _, i in items if isinstance(i, OrderChanges)}
        current: dict[str, dict[str, Any]] = {}
        if wanted:
            current = {r["external_order_id"]: r["document"] for r in await conn.fetch(
                "SELECT external_order_id, document FROM orders "
                "WHERE external_order_id = ANY($1::text[])", list(wanted))}
        out = []
        for record, item in items:
            document = _merged(current, item) if isinstance(item, OrderChanges) else item
            if document.externalOrderId in wanted:
                current[document.externalOrderId] = document.model_dump(mode="json",
                                                                        exclude_unset=True)
            out.append((record, document))
        return out

    async def __call__(self, records: Sequence[Record]) -> None:
        async with self.pool.acquire() as conn:
            orders = await self._documents(conn, records)
            # Matching first, in a short transaction of its own: it holds the lock that
            # serialises processors, and it is idempotent (matching again finds the customers
            # it made), so a batch handed over again is matched the same way.
            async with conn.transaction():
                matched = await link_customers(conn, [o for _, o in orders])
            async with conn.transaction():
                fresh = await positions.unseen(conn, list(zip(orders, matched, strict=True)),
                                               lambda m: m[0][0])
                states = await self._current(conn, {o.externalOrderId for (_, o), _ in fresh})
                events: list[OrderEvent] = []
                for (record, order), customer_id in fresh:
                    previous, sequence = states.get(order.externalOrderId, (None, 0))
                    event = event_for(previous, order, event_id_of(record), customer_id,
                                      sequence + 1)
                    if event is not None:
                        states[order.externalOrderId] = (event.order, event.sequence)
                        events.append(event)
                await self._save(conn, events)
                pending = await outbox.add(
                    conn, [(ORDER_EVENTS, e.external_order_id, e) for e in events])
                await positions.advance(conn, records)
        await outbox.publish(self.pool, self.producer, pending)

    async def _current(self, conn: asyncpg.Connection,
                       ids: set[str]) -> dict[str, tuple[dict[str, Any] | None, int]]:
        """Each order's last document and the sequence number of its last event."""
        rows = await conn.fetch(
            "SELECT external_order_id, document, sequence FROM orders "
            "WHERE external_order_id = ANY($1::text[])",
            list(ids))
        return {r["external_order_id"]: (r["document"], r["sequence"]) for r in rows}

    async def _save(self, conn: asyncpg.Connection, events: list[OrderEvent]) -> None:
        latest = {e.external_order_id: e for e in events}  # the last version of each order wins
        if not latest:
            return
        rows = list(latest.values())
        # Documents go as text[] cast in SQL: a json[] parameter costs five times as much.
        await conn.execute(
            """
            INSERT INTO orders(external_order_id, document, status, version_tag, customer_id,
                               has_contact, processed_at, sequence)
            SELECT id, doc::json, status, tag, customer, has_contact, now(), seq
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[],
                        $7::bigint[])
                AS u(id, doc, status, tag, customer, has_contact, seq)
            ON CONFLICT (external_order_id) DO UPDATE SET document = excluded.document,
                status = excluded.status, version_tag = excluded.version_tag,
                customer_id = excluded.customer_id, has_contact = excluded.has_contact,
                processed_at = excluded.processed_at, sequence = excluded.sequence
            """,
            [e.external_order_id for e in rows], [orjson.dumps(e.order).decode() for e in rows],
            [e.status.value for e in rows], [e.version_tag for e in rows],
            [e.customer_id for e in rows], [e.customer_id is not None for e in rows],
            [e.sequence for e in rows],
        )
