"""``/api/v1/orders/{externalOrderId}/external-actions``: define, list, read, update (quoting the
version), delete; the menu in a locale; execute as a named user. ``/comments``: a connector's
answer, on the order or related to one of its actions. An order the executor has not seen on
``orderflow.order-events`` is a 404."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from orderflow_runtime.web import require_scope
from orderflow_schemas import (
    Comment,
    CommentSpec,
    ExecutionRequest,
    ExternalActionSpec,
    ExternalActionUpdate,
    FormElement,
)
from orderflow_schemas.external_actions import LOCALE_PATTERN
from orderflow_schemas.templates import TemplateError
from starlette.convertors import Convertor, register_url_convertor

from ..external_actions import orders
from ..external_actions.forms import problems
from ..external_actions.menu import applies, link_url, menu
from ..external_actions.store import Action, ActionStore, Stale


class ActionId(Convertor[str]):
    """An action id in a path: anything but ``menu``, so that ``.../external-actions/menu``
    is the menu route alone (an OPTIONS on it answers the menu's methods, not an action's)."""

    regex = "(?!menu/?$)[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("action_id", ActionId())
ONE = "/external-actions/{action_id:action_id}"
router = APIRouter(prefix="/api/v1/orders/{external_order_id}", tags=["external actions"])
CanRead = Depends(require_scope("actions.read"))
CanWrite = Depends(require_scope("actions.write"))
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"description": "no such order (not seen by the executor) or "
                                             "no such action"}}
STALE: Responses = {409: {"description": "the version is not the current one; the answer "
                                         "carries the current action"}}


async def _store(request: Request) -> ActionStore:
    return request.app.state.actions  # type: ignore[no-any-return]


Store = Annotated[ActionStore, Depends(_store)]


def refuse(loc: tuple[str | int, ...], message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", *loc), "msg": message,
                                    "type": "value_error"}])


async def known(store: ActionStore, order_id: str) -> dict[str, Any]:
    found = await orders.order(store.pool, order_id)
    if found is None:
        raise HTTPException(404, f"no order {order_id!r}: the executor has not seen it")
    return found


async def _action(store: ActionStore, order_id: str, action_id: str,
                  order: dict[str, Any] | None = None) -> Action:
    """An action of the order, or a template that applies to it (``order``: the order as
    ``known`` gave it, when the caller has it already)."""
    action = await store.get(order_id, action_id)
    if action is None:
        template = await store.template(action_id)
        if template is not None and applies(template, (order or await known(store, order_id))
                                             ["document"]):
            return template
        raise HTTPException(404, f"no external action {action_id!r} on order {order_id!r}")
    return action


def _stale(exc: Stale) -> JSONResponse:
    return JSONResponse(status_code=409, content={
        "detail": f"version {exc.current.version} is the current one",
        "current": exc.current.to_dict()})


@router.post("/external-actions", status_code=201, dependencies=[CanWrite],
             responses=NOT_FOUND)
async def create_action(external_order_id: str, spec: ExternalActionSpec,
                        store: Store) -> dict[str, Any]:
    await known(store, external_order_id)
    return (await store.create(external_order_id, spec)).to_dict()


@router.get("/external-actions", dependencies=[CanRead], responses=NOT_FOUND)
async def list_actions(external_order_id: str, store: Store,
                       group: Annotated[str | None, Query(min_length=1)] = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100,
                       after: str | None = None) -> dict[str, Any]:
    await known(store, external_order_id)
    page = await store.page(external_order_id, group, limit, after)
    return {"actions": [a.to_dict() for a in page],
            "nextAfter": page[-1].id if len(page) == limit else None}


@router.get("/external-actions/menu", dependencies=[CanRead], responses=NOT_FOUND)
async def action_menu(external_order_id: str, store: Store,
                      locale: Annotated[str, Query(pattern=LOCALE_PATTERN)] = "en_US",
                      ) -> dict[str, Any]:
    order = await known(store, external_order_id)
    own: list[Action] = []
    after: str | None = None
    while page := await store.page(external_order_id, None, 500, after):
        own += page
        after = page[-1].id
    return {"externalOrderId": external_order_id, "locale": locale, "entries": menu(
        own, await store.all_templates(), locale, external_order_id, order["document"],
        order["customer_id"])}


@router.get(ONE, dependencies=[CanRead], responses=NOT_FOUND)
async def get_action(external_order_id: str, action_id: str, store: Store) -> dict[str, Any]:
    return (await _action(store, external_order_id, action_id)).to_dict()


@router.put(ONE, dependencies=[CanWrite],
            responses={**NOT_FOUND, **STALE})
async def update_action(external_order_id: str, action_id: str, body: ExternalActionUpdate,
                        store: Store) -> Any:
    spec = ExternalActionSpec.model_validate(body.model_dump(exclude={"version"}))
    try:
        action = await store.update(external_order_id, action_id, spec, body.version)
    except Stale as exc:
        return _stale(exc)
    if action is None:
        raise HTTPException(404, f"no external action {action_id!r} on order "
                                 f"{external_order_id!r}")
    return action.to_dict()


@router.delete(ONE, status_code=204, dependencies=[CanWrite],
               responses=NOT_FOUND)
async def delete_action(external_order_id: str, action_id: str, store: Store) -> Response:
    if not await store.delete(external_order_id, action_id):
        raise HTTPException(404, f"no external action {action_id!r} on order "
                                 f"{external_order_id!r}")
    return Response(status_code=204)


@router.post(f"{ONE}/execute", status_code=201, dependencies=[CanWrite],
             responses={**NOT_FOUND, 409: {"description": "a COMMENT is not executed"}})
async def execute_action(external_order_id: str, action_id: str, body: ExecutionRequest,
                         store: Store, response: Response,
                         idempotency_key: Annotated[str | None, Header(
                             min_length=1, max_length=200)] = None) -> dict[str, Any]:
    """A LINK answers its URL rendered for the order; a FORM's inputs are checked element by
    element (422 naming each). The execution is recorded with the user and published to
    ``orderflow.external-actions``. The same ``Idempotency-Key`` gives the same execution."""
    order = await known(store, external_order_id)
    action = await _action(store, external_order_id, action_id, order)
    url = None
    if action.type == "COMMENT":
        raise HTTPException(409, "a COMMENT is an information channel: it is not executed")
    if action.type == "LINK":
        try:
            url = link_url(action, external_order_id, order["document"], order["customer_id"])
        except TemplateError as exc:
            raise HTTPException(409, f"the LINK cannot be rendered for this order: {exc}") \
                from exc
    else:
        elements = [FormElement.model_validate(e) for e in action.spec.get("elements", [])]
        found = problems(elements, body.inputs)
        if found:
            raise RequestValidationError([{"loc": ("body", "inputs", name), "msg": why,
                                           "type": "value_error"} for name, why in found])
    execution, new = await store.execute(external_order_id, action, body.user, body.inputs,
                                         url, idempotency_key)
    if not new:
        response.status_code = 200
    return execution


@router.post("/comments", status_code=201, dependencies=[CanWrite], responses=NOT_FOUND)
async def add_comment(external_order_id: str, body: CommentSpec, store: Store) -> dict[str, Any]:
    """COMMENT information from a connector; ``relatedActionId`` must be an action of this
    order (422 otherwise)."""
    await known(store, external_order_id)
    problem = await store.relation_problem(external_order_id, body.related_action_id)
    if problem is not None:
        raise refuse(("relatedActionId",), problem)
    comment = Comment(external_order_id=external_order_id, text=body.text, author=body.author,
                      related_action_id=body.related_action_id)
    await store.add_comment(comment)
    return {"id": comment.id, **body.to_dict(), "externalOrderId": external_order_id,
            "createdAt": comment.occurred_at.isoformat()}
