"""Triggers in PostgreSQL: the latest revision in ``triggers``, every revision in
``trigger_revisions``. Writes take one advisory lock, so change numbers are handed out in
commit order and a worker following them (``feed.py``) never skips one; each write notifies
``trigger_changes``."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from orderflow_runtime.kafka import EventProducer
from orderflow_schemas import (
    FiringOutcome,
    TriggerDefinition,
    TriggerEvaluation,
    TriggerSpec,
    TriggerVerdict,
)
from orderflow_schemas.topics import TRIGGER_EVALUATIONS

from ..domain.evaluate import evaluation_id
from . import outbox, runs

CHANNEL = "trigger_changes"
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('orderflow.trigger-changes'))"
_COLUMNS = "id, spec, revision, deleted, change_seq"


def _cancelled(row: Any, cancelled: list[Any], why: str) -> list[outbox.Outgoing]:
    return [(TRIGGER_EVALUATIONS, r["external_order_id"], TriggerEvaluation(
        id=evaluation_id(r["run_id"], "cancelled"), event_id=r["event_id"],
        event_name=r["event"]["name"], external_order_id=r["external_order_id"],
        verdicts=[TriggerVerdict(
            trigger_id=row["id"], trigger_name=row["spec"].get("name", ""),
            revision=r["revision"], outcome=FiringOutcome.CANCELLED, run_id=r["run_id"],
            step=r["step"], reason=why)]).to_wire()) for r in cancelled]


def definition(row: Any) -> TriggerDefinition:
    return TriggerDefinition.model_validate({**row["spec"], "id": row["id"],
                                             "revision": row["revision"]})


class TriggerStore:
    def __init__(self, pool: asyncpg.Pool, producer: EventProducer | None = None) -> None:
        self.pool = pool
        self.producer = producer

    async def _write(self, sql: str, *args: Any) -> Any:
        """Write a trigger; one that ends up disabled or deleted cancels its waiting runs, and
        the timelines of their orders say so."""
        seq, out = None, []
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(_LOCK)
            row = await conn.fetchrow(sql, *args)
            if row is not None and not row["deleted"]:
                await conn.execute(
                    "INSERT INTO trigger_revisions(trigger_id, revision, spec) VALUES ($1,$2,$3)",
                    row["id"], row["revision"], row["spec"])
            if row is not None:
                await conn.execute(f"NOTIFY {CHANNEL}")
                if row["deleted"] or not row["spec"].get("enabled", True):
                    why = "the trigger was deleted" if row["deleted"] else \
                        "the trigger was disabled"
                    out = _cancelled(row, await runs.cancel(conn, row["id"], why), why)
                    seq = await outbox.add(conn, out) if out else None
        if seq is not None and self.producer is not None:
            await outbox.publish(self.pool, self.producer, seq, out)
        return row

    async def create(self, spec: TriggerSpec) -> TriggerDefinition:
        row = await self._write(
            f"INSERT INTO triggers(id, name, enabled, spec) VALUES ($1,$2,$3,$4) "
            f"RETURNING {_COLUMNS}", str(uuid.uuid4()), spec.name, spec.enabled, spec.to_dict())
        return definition(row)

    async def replace(self, trigger_id: str, spec: TriggerSpec) -> TriggerDefinition | None:
        row = await self._write(
            "UPDATE triggers SET name=$2, enabled=$3, spec=$4, revision=revision+1, "
            "updated_at=now(), change_seq=nextval('trigger_changes') "
            f"WHERE id=$1 AND NOT deleted RETURNING {_COLUMNS}",
            trigger_id, spec.name, spec.enabled, spec.to_dict())
        return definition(row) if row else None

    async def set_enabled(self, trigger_id: str, enabled: bool) -> TriggerDefinition | None:
        row = await self._write(
            "UPDATE triggers SET enabled=$2::boolean, "
            "spec=spec || jsonb_build_object('enabled', $2::boolean), "
            "revision=revision+1, updated_at=now(), change_seq=nextval('trigger_changes') "
            f"WHERE id=$1 AND NOT deleted RETURNING {_COLUMNS}", trigger_id, enabled)
        return definition(row) if row else None

    async def delete(self, trigger_id: str) -> bool:
        """Marked deleted (workers learn it from the change number); revisions are kept."""
        row = await self._write(
            "UPDATE triggers SET deleted=true, enabled=false, updated_at=now(), "
            f"change_seq=nextval('trigger_changes') WHERE id=$1 AND NOT deleted "
            f"RETURNING {_COLUMNS}", trigger_id)
        return row is not None

    async def get(self, trigger_id: str) -> TriggerDefinition | None:
        row = await self.pool.fetchrow(
            f"SELECT {_COLUMNS} FROM triggers WHERE id=$1 AND NOT deleted", trigger_id)
        return definition(row) if row else None

    async def revision(self, trigger_id: str, revision: int) -> TriggerDefinition | None:
        """A past revision, as a run that waited pins it (issue 10)."""
        row = await self.pool.fetchrow(
            "SELECT trigger_id AS id, spec, revision FROM trigger_revisions "
            "WHERE trigger_id=$1 AND revision=$2", trigger_id, revision)
        return definition(row) if row else None

    async def page(self, limit: int, after: str | None) -> list[TriggerDefinition]:
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM triggers WHERE NOT deleted "
            "AND ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2", after, limit)
        return [definition(r) for r in rows]

    async def changes(self, conn: asyncpg.Connection, after: int) -> list[Any]:
        """Rows changed since change number ``after`` (all of them for 0), in change order."""
        return await conn.fetch(  # type: ignore[no-any-return]
            f"SELECT {_COLUMNS} FROM triggers WHERE change_seq > $1 ORDER BY change_seq", after)
