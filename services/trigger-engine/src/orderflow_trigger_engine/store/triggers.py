"""Triggers in PostgreSQL: the latest revision in ``triggers``, every revision in
``trigger_revisions``. Writes take one advisory lock, so change numbers are handed out in
commit order and a worker following them (``feed.py``) never skips one; each write notifies
``trigger_changes``."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from orderflow_schemas import TriggerDefinition, TriggerSpec

CHANNEL = "trigger_changes"
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('orderflow.trigger-changes'))"
_COLUMNS = "id, spec, revision, deleted, change_seq"


def definition(row: Any) -> TriggerDefinition:
    return TriggerDefinition.model_validate({**row["spec"], "id": row["id"],
                                             "revision": row["revision"]})


class TriggerStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def _write(self, sql: str, *args: Any) -> Any:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(_LOCK)
            row = await conn.fetchrow(sql, *args)
            if row is not None and not row["deleted"]:
                await conn.execute(
                    "INSERT INTO trigger_revisions(trigger_id, revision, spec) VALUES ($1,$2,$3)",
                    row["id"], row["revision"], row["spec"])
            if row is not None:
                await conn.execute(f"NOTIFY {CHANNEL}")
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
