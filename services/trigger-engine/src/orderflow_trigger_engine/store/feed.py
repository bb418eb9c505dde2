"""Keeping a worker's in-memory triggers current.

PostgreSQL LISTEN/NOTIFY wakes the worker on every change, which then reads the rows whose change
number is past the last it saw; on every (re)connection it reloads everything, and it also looks
every ``poll_seconds`` in case a notification was lost. Chosen over a compacted topic of
revisions: the triggers already live in PostgreSQL (the API's store), a NOTIFY is sent only when
the change commits, so there is no second write to keep consistent (no outbox for trigger
revisions), and a starting worker reads the table instead of a whole topic."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging

import asyncpg
from pydantic import ValidationError

from .index import TriggerIndex
from .triggers import CHANNEL, TriggerStore, definition

log = logging.getLogger(__name__)


class TriggerFeed:
    def __init__(self, store: TriggerStore, poll_seconds: float = 1.0) -> None:
        self.store = store
        self.poll_seconds = poll_seconds
        self.index = TriggerIndex()
        self.seen = 0
        self.loaded = asyncio.Event()

    async def refresh(self, conn: asyncpg.Connection, full: bool = False) -> int:
        """Apply the changes past ``seen`` (everything when ``full``); returns how many."""
        rows = await self.store.changes(conn, 0 if full else self.seen)
        if full:
            self.index = TriggerIndex()
        for row in rows:
            self.seen = max(self.seen, row["change_seq"])
            if row["deleted"]:
                self.index.remove(row["id"])
                continue
            try:
                self.index.put(definition(row))
            except ValidationError as exc:
                # Saved under older rules (e.g. an event name no longer known): skipped, loudly,
                # rather than stopping the feed for every other trigger.
                self.index.remove(row["id"])
                log.error("stored trigger is not valid now", extra={"trigger": row["id"],
                                                                     "error": str(exc)})
        return len(rows)

    async def run(self) -> None:
        while True:
            try:
                async with self.store.pool.acquire() as conn:
                    await self._follow(conn)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("trigger feed lost its connection, reloading", extra={
                    "error": repr(exc)})
                await asyncio.sleep(1.0)

    async def _follow(self, conn: asyncpg.Connection) -> None:
        wake = asyncio.Event()

        def notified(*_: object) -> None:
            wake.set()

        await conn.add_listener(CHANNEL, notified)
        try:
            await self.refresh(conn, full=True)
            # Compiled triggers live long: out of the collector's way, so that a full collection
            # does not walk 10,000 of them.
            gc.freeze()
            self.loaded.set()
            log.info("triggers loaded", extra={"enabled": len(self.index)})
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.poll_seconds)
                wake.clear()
                await self.refresh(conn)
        finally:
            if not conn.is_closed():
                await conn.remove_listener(CHANNEL, notified)
