"""Triggers in PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from orderflow_schemas import TriggerDefinition, TriggerSpec


def _definition(row: Any) -> TriggerDefinition:
    return TriggerDefinition.model_validate({**row["spec"], "id": row["id"],
                                             "revision": row["revision"]})


class TriggerStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create(self, spec: TriggerSpec) -> TriggerDefinition:
        row = await self.pool.fetchrow(
            "INSERT INTO triggers(id, name, event, enabled, spec) VALUES ($1,$2,$3,$4,$5) "
            "RETURNING id, spec, revision",
            str(uuid.uuid4()), spec.name, spec.event, spec.enabled, spec.to_dict())
        return _definition(row)

    async def replace(self, trigger_id: str, spec: TriggerSpec) -> TriggerDefinition | None:
        row = await self.pool.fetchrow(
            "UPDATE triggers SET name=$2, event=$3, enabled=$4, spec=$5, revision=revision+1, "
            "updated_at=now() WHERE id=$1 RETURNING id, spec, revision",
            trigger_id, spec.name, spec.event, spec.enabled, spec.to_dict())
        return _definition(row) if row else None

    async def get(self, trigger_id: str) -> TriggerDefinition | None:
        row = await self.pool.fetchrow(
            "SELECT id, spec, revision FROM triggers WHERE id=$1", trigger_id)
        return _definition(row) if row else None

    async def delete(self, trigger_id: str) -> bool:
        return await self.pool.fetchval(
            "DELETE FROM triggers WHERE id=$1 RETURNING true", trigger_id) is not None

    async def page(self, limit: int, after: str | None) -> list[TriggerDefinition]:
        rows = await self.pool.fetch(
            "SELECT id, spec, revision FROM triggers WHERE ($1::text IS NULL OR id > $1) "
            "ORDER BY id LIMIT $2", after, limit)
        return [_definition(r) for r in rows]

    async def listening_to(self, event_name: str) -> list[TriggerDefinition]:
        rows = await self.pool.fetch(
            "SELECT id, spec, revision FROM triggers WHERE enabled AND event = $1", event_name)
        return [_definition(r) for r in rows]
