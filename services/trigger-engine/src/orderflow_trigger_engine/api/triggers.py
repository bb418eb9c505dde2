"""``/api/v1/triggers``: create, read, list, replace, enable, disable and delete triggers. A
change reaches every worker through ``store/feed.py`` (LISTEN/NOTIFY), within a second or so."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from orderflow_schemas import TriggerDefinition, TriggerSpec

from .deps import NOT_FOUND, CanRead, CanWrite, MinDelay, Store, checked

router = APIRouter(prefix="/api/v1/triggers", tags=["triggers"])


def _found(trigger: TriggerDefinition | None) -> TriggerDefinition:
    if trigger is None:
        raise HTTPException(404, "trigger not found")
    return trigger


@router.post("", status_code=201, dependencies=[CanWrite], response_model=TriggerDefinition,
             response_model_by_alias=True)
async def create_trigger(spec: TriggerSpec, store: Store,
                         min_delay: MinDelay) -> TriggerDefinition:
    return await store.create(checked(spec, min_delay))


@router.get("", dependencies=[CanRead])
async def list_triggers(store: Store, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                        after: str | None = None) -> dict[str, Any]:
    page = await store.page(limit, after)
    return {"triggers": [t.to_dict() for t in page],
            "nextAfter": page[-1].id if len(page) == limit else None}


@router.get("/{trigger_id}", dependencies=[CanRead], response_model=TriggerDefinition,
            response_model_by_alias=True, responses=NOT_FOUND)
async def get_trigger(trigger_id: str, store: Store) -> TriggerDefinition:
    return _found(await store.get(trigger_id))


@router.put("/{trigger_id}", dependencies=[CanWrite], response_model=TriggerDefinition,
            response_model_by_alias=True, responses=NOT_FOUND)
async def replace_trigger(trigger_id: str, spec: TriggerSpec, store: Store,
                          min_delay: MinDelay) -> TriggerDefinition:
    """A new revision; runs waiting on an earlier one keep it."""
    return _found(await store.replace(trigger_id, checked(spec, min_delay)))


@router.post("/{trigger_id}/enable", dependencies=[CanWrite], response_model=TriggerDefinition,
             response_model_by_alias=True, responses=NOT_FOUND)
async def enable_trigger(trigger_id: str, store: Store) -> TriggerDefinition:
    return _found(await store.set_enabled(trigger_id, True))


@router.post("/{trigger_id}/disable", dependencies=[CanWrite], response_model=TriggerDefinition,
             response_model_by_alias=True, responses=NOT_FOUND)
async def disable_trigger(trigger_id: str, store: Store) -> TriggerDefinition:
    """Also cancels the trigger's waiting runs (deleting does too)."""
    return _found(await store.set_enabled(trigger_id, False))


@router.delete("/{trigger_id}", status_code=204, dependencies=[CanWrite], responses=NOT_FOUND)
async def delete_trigger(trigger_id: str, store: Store) -> Response:
    if not await store.delete(trigger_id):
        raise HTTPException(404, "trigger not found")
    return Response(status_code=204)
