"""Runs in PostgreSQL: the waiting ones of a batch's orders, when triggers last fired for them,
the due ones claimed by the scheduler, and their moves. Every function takes the connection of
the caller's transaction: a run's change and what it emits commit together."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg
import orjson

from ..domain.ledger import Ledger, NewRun

_RUN = ("run_id, trigger_id, revision, external_order_id, event_id, event, step, state, due_at, "
        "reason, created_at, updated_at")


class Move(NamedTuple):
    """A run's next state: ``waiting`` at ``step`` until ``due_at``, or finished. A tuple: a
    frozen dataclass's ``__init__`` costs several times more, at one per due run."""

    run_id: str
    state: str
    step: int
    due_at: datetime
    reason: str | None = None


async def load(conn: asyncpg.Connection, order_ids: Iterable[str],
               fires: bool = True) -> tuple[Ledger, list[Any]]:
    """The ledger of these orders (with when triggers last fired for them, if ``fires``), and
    their waiting runs."""
    ids = list(set(order_ids))
    waiting = await conn.fetch(
        f"SELECT {_RUN} FROM runs WHERE state = 'waiting' AND external_order_id = ANY($1) "
        "ORDER BY created_at, run_id", ids)
    fired = await conn.fetch(
        "SELECT trigger_id, external_order_id, last_fired_at FROM trigger_fires "
        "WHERE external_order_id = ANY($1)", ids) if fires else []
    ledger = Ledger({(r["trigger_id"], r["external_order_id"]) for r in waiting},
                    {(r["trigger_id"], r["external_order_id"]): r["last_fired_at"] for r in fired})
    return ledger, list(waiting)


async def last_fired_locked(conn: asyncpg.Connection, pairs: Sequence[tuple[str, str]]) -> Ledger:
    """A ledger of when these (trigger, order) pairs last fired, their rows locked until the
    transaction ends (two workers firing the same once-only trigger wait for each other)."""
    rows = await conn.fetch(
        "SELECT trigger_id, external_order_id, last_fired_at FROM trigger_fires "
        "WHERE (trigger_id, external_order_id) IN (SELECT * FROM unnest($1::text[], $2::text[])) "
        "ORDER BY trigger_id, external_order_id FOR UPDATE",
        [p[0] for p in pairs], [p[1] for p in pairs])
    return Ledger(last_fired={(r["trigger_id"], r["external_order_id"]): r["last_fired_at"]
                              for r in rows})


async def save(conn: asyncpg.Connection, ledger: Ledger) -> None:
    new: list[NewRun] = ledger.new_runs
    if new:
        await conn.execute(
            "INSERT INTO runs(run_id, trigger_id, revision, external_order_id, event_id, event, "
            "step, state, due_at) SELECT r, t, v, o, e, j::jsonb, s, 'waiting', d FROM unnest("
            "$1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::int[], "
            "$8::timestamptz[]) AS x(r, t, v, o, e, j, s, d) ON CONFLICT (run_id) DO NOTHING",
            [r.run_id for r in new], [r.trigger_id for r in new], [r.revision for r in new],
            [r.external_order_id for r in new], [r.event_id for r in new],
            [orjson.dumps(r.event).decode() for r in new], [r.step for r in new],
            [r.due_at for r in new])
    if ledger.fires:
        pairs = sorted(ledger.fires)
        await conn.execute(
            "INSERT INTO trigger_fires(trigger_id, external_order_id, last_fired_at) "
            "SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) "
            "ON CONFLICT (trigger_id, external_order_id) DO UPDATE SET "
            "last_fired_at = greatest(trigger_fires.last_fired_at, excluded.last_fired_at)",
            [p[0] for p in pairs], [p[1] for p in pairs], [ledger.fires[p] for p in pairs])


async def move(conn: asyncpg.Connection, moves: Sequence[Move]) -> None:
    if not moves:
        return
    await conn.execute(
        "UPDATE runs SET state = m.state, step = m.step, due_at = m.due_at, reason = m.reason, "
        "updated_at = now() FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], "
        "$5::text[]) AS m(run_id, state, step, due_at, reason) WHERE runs.run_id = m.run_id",
        [m.run_id for m in moves], [m.state for m in moves], [m.step for m in moves],
        [m.due_at for m in moves], [m.reason for m in moves])


async def claim_due(conn: asyncpg.Connection, limit: int) -> list[Any]:
    """Due runs no other worker holds, locked until the caller's transaction ends: a worker
    that dies mid-way releases them with its connection, and its work was never committed.
    Only the columns the scheduler reads: a crowd coming due is thousands of rows a second."""
    return await conn.fetch(  # type: ignore[no-any-return]
        "SELECT run_id, trigger_id, revision, external_order_id, event, step, due_at "
        "FROM runs WHERE state = 'waiting' AND due_at <= now() "
        "ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED", limit)


async def cancel(conn: asyncpg.Connection, trigger_id: str, reason: str) -> list[Any]:
    return await conn.fetch(  # type: ignore[no-any-return]
        "UPDATE runs SET state = 'cancelled', reason = $2, updated_at = now() "
        f"WHERE trigger_id = $1 AND state = 'waiting' RETURNING {_RUN}", trigger_id, reason)


async def page(pool: asyncpg.Pool, trigger_id: str, limit: int, after: str | None,
               order: str | None, state: str | None) -> list[Any]:
    return await pool.fetch(  # type: ignore[no-any-return]
        f"SELECT {_RUN} FROM runs WHERE trigger_id = $1 AND ($2::text IS NULL OR run_id > $2) "
        "AND ($3::text IS NULL OR external_order_id = $3) AND ($4::text IS NULL OR state = $4) "
        "ORDER BY run_id LIMIT $5", trigger_id, after, order, state, limit)
