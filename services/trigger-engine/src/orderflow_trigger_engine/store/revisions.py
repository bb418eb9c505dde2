"""Compiled trigger revisions as waiting runs pin them: the one the index holds when it is the
same, else loaded once from ``trigger_revisions`` (revisions never change once written)."""

from __future__ import annotations

import logging

import asyncpg

from ..domain.evaluate import CompiledTrigger, InvalidTrigger
from .feed import TriggerFeed
from .triggers import definition

log = logging.getLogger(__name__)


class Revisions:
    def __init__(self, feed: TriggerFeed, limit: int = 10_000) -> None:
        self.feed = feed
        self.limit = limit
        self._held: dict[tuple[str, int], CompiledTrigger | None] = {}

    async def get(self, conn: asyncpg.Connection, trigger_id: str,
                  revision: int) -> CompiledTrigger | None:
        current = self.feed.index.get(trigger_id)
        if current is not None and current.definition.revision == revision:
            return current
        key = (trigger_id, revision)
        if key not in self._held:
            if len(self._held) >= self.limit:
                self._held.clear()
            row = await conn.fetchrow(
                "SELECT trigger_id AS id, spec, revision FROM trigger_revisions "
                "WHERE trigger_id = $1 AND revision = $2", trigger_id, revision)
            self._held[key] = _compiled(row) if row is not None else None
        return self._held[key]


def _compiled(row: asyncpg.Record) -> CompiledTrigger | None:
    try:
        return CompiledTrigger.of(definition(row))
    except (InvalidTrigger, ValueError) as exc:
        log.error("stored revision does not compile", extra={"trigger": row["id"],
                                                             "error": str(exc)})
        return None
