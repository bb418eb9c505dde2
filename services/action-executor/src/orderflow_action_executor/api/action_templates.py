"""``/api/v1/external-action-templates``: external actions for every order, or for the orders
where every condition holds (the trigger conditions' syntax, over ``order``), so that a
connector does not define the same FORM on each order. They appear in every matching order's
menu and are executed there like the order's own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from orderflow_rules import ExpressionError, compile_condition
from orderflow_schemas import ExternalActionTemplateSpec
from pydantic import Field

from ..external_actions.store import Stale
from .external_actions import STALE, CanRead, CanWrite, Store, _stale, refuse

router = APIRouter(prefix="/api/v1/external-action-templates", tags=["external actions"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such template"}}


class TemplateUpdate(ExternalActionTemplateSpec):
    version: int = Field(ge=1, strict=True)


def _checked(spec: ExternalActionTemplateSpec) -> dict[str, Any]:
    for index, condition in enumerate(spec.conditions):
        try:
            compile_condition(condition, index)
        except (ExpressionError, ValueError) as exc:
            raise refuse(("conditions", index, "expression"), str(exc)) from exc
    return spec.to_dict()


@router.post("", status_code=201, dependencies=[CanWrite])
async def create_template(spec: ExternalActionTemplateSpec, store: Store) -> dict[str, Any]:
    return (await store.create_template(_checked(spec))).to_dict()


@router.get("", dependencies=[CanRead])
async def list_templates(store: Store, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                         after: str | None = None) -> dict[str, Any]:
    page = await store.templates(limit, after)
    return {"templates": [t.to_dict() for t in page],
            "nextAfter": page[-1].id if len(page) == limit else None}


@router.get("/{template_id}", dependencies=[CanRead], responses=NOT_FOUND)
async def get_template(template_id: str, store: Store) -> dict[str, Any]:
    found = await store.template(template_id)
    if found is None:
        raise HTTPException(404, "no such template")
    return found.to_dict()


@router.put("/{template_id}", dependencies=[CanWrite], responses={**NOT_FOUND, **STALE})
async def update_template(template_id: str, body: TemplateUpdate, store: Store) -> Any:
    spec = ExternalActionTemplateSpec.model_validate(body.model_dump(exclude={"version"}))
    try:
        found = await store.update_template(template_id, _checked(spec), body.version)
    except Stale as exc:
        return _stale(exc)
    if found is None:
        raise HTTPException(404, "no such template")
    return found.to_dict()


@router.delete("/{template_id}", status_code=204, dependencies=[CanWrite], responses=NOT_FOUND)
async def delete_template(template_id: str, store: Store) -> Response:
    if not await store.delete_template(template_id):
        raise HTTPException(404, "no such template")
    return Response(status_code=204)
