"""``GET /api/v1/triggers/{id}/runs``: a trigger's runs (delays, windows and workflows), what
waits, until when and at which step, and how finished ones ended. Paged by run id."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from orderflow_schemas import WireModel
from orderflow_schemas.triggers import RunState
from pydantic import Field

from ..store import runs
from .deps import NOT_FOUND, CanRead, Store

router = APIRouter(prefix="/api/v1/triggers", tags=["triggers"])


class Run(WireModel):
    run_id: str
    trigger_id: str
    revision: int = Field(description="The trigger revision the run is pinned to")
    external_order_id: str
    event_id: str
    event_name: str
    step: int = Field(description="Waiting: the step it performs next (0: the trigger's "
                                  "effects, 1...: later steps); finished: the last one")
    state: RunState
    due_at: datetime = Field(description="Waiting: when it is due; finished: when it ended")
    reason: str | None = None
    created_at: datetime
    updated_at: datetime


class RunPage(WireModel):
    runs: list[Run]
    next_after: str | None = Field(description="Pass as ``after`` for the next page")


@router.get("/{trigger_id}/runs", dependencies=[CanRead], responses=NOT_FOUND,
            response_model=RunPage, response_model_by_alias=True)
async def list_runs(trigger_id: str, store: Store,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100,
                    after: str | None = None,
                    order: Annotated[str | None, Query(
                        description="Only the runs of this externalOrderId")] = None,
                    state: RunState | None = None) -> Any:
    if await store.pool.fetchval("SELECT 1 FROM triggers WHERE id = $1", trigger_id) is None:
        raise HTTPException(404, "trigger not found")
    rows = await runs.page(store.pool, trigger_id, limit, after, order, state)
    return RunPage(runs=[Run(
        run_id=r["run_id"], trigger_id=r["trigger_id"], revision=r["revision"],
        external_order_id=r["external_order_id"], event_id=r["event_id"],
        event_name=r["event"]["name"], step=r["step"], state=r["state"], due_at=r["due_at"],
        reason=r["reason"], created_at=r["created_at"], updated_at=r["updated_at"])
        for r in rows], next_after=rows[-1]["run_id"] if len(rows) == limit else None)
