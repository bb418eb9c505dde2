"""``/api/v1/triggers``: create, read, list, replace and delete triggers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from orderflow_runtime.web import require_scope
from orderflow_schemas import TriggerDefinition, TriggerSpec

from ..store import TriggerStore

router = APIRouter(prefix="/api/v1/triggers", tags=["triggers"])
CanRead = Depends(require_scope("triggers.read"))
CanWrite = Depends(require_scope("triggers.write"))


def _store(request: Request) -> TriggerStore:
    return request.app.state.store  # type: ignore[no-any-return]


Store = Annotated[TriggerStore, Depends(_store)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "trigger not found"}}


def _supported(spec: TriggerSpec) -> TriggerSpec:
    # Delays and working windows need durable timers, which come with the trigger-engine work;
    # refusing them is better than firing at the wrong time.
    if spec.delay not in ("PT0S", "PT0M", "P0D") or spec.schedule.mode != "continuous":
        raise HTTPException(422, "delays and working-hour windows are not supported yet: use "
                                 '"delay": "PT0S" and "schedule": {"mode": "continuous"}')
    return spec


@router.post("", status_code=201, dependencies=[CanWrite], response_model=TriggerDefinition,
             response_model_by_alias=True)
async def create_trigger(spec: TriggerSpec, store: Store) -> TriggerDefinition:
    return await store.create(_supported(spec))


@router.get("", dependencies=[CanRead])
async def list_triggers(store: Store, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                        after: str | None = None) -> dict[str, Any]:
    page = await store.page(limit, after)
    return {"triggers": [t.to_dict() for t in page],
            "nextAfter": page[-1].id if len(page) == limit else None}


@router.get("/{trigger_id}", dependencies=[CanRead], response_model=TriggerDefinition,
            response_model_by_alias=True, responses=NOT_FOUND)
async def get_trigger(trigger_id: str, store: Store) -> TriggerDefinition:
    found = await store.get(trigger_id)
    if found is None:
        raise HTTPException(404, "trigger not found")
    return found


@router.put("/{trigger_id}", dependencies=[CanWrite], response_model=TriggerDefinition,
            response_model_by_alias=True, responses=NOT_FOUND)
async def replace_trigger(trigger_id: str, spec: TriggerSpec, store: Store) -> TriggerDefinition:
    found = await store.replace(trigger_id, _supported(spec))
    if found is None:
        raise HTTPException(404, "trigger not found")
    return found


@router.delete("/{trigger_id}", status_code=204, dependencies=[CanWrite], responses=NOT_FOUND)
async def delete_trigger(trigger_id: str, store: Store) -> Response:
    if not await store.delete(trigger_id):
        raise HTTPException(404, "trigger not found")
    return Response(status_code=204)
