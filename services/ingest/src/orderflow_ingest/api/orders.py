"""``/api/v1/orders``: bulk intake, the processed version of an order, and order actions."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from orderflow_runtime.groupcommit import GroupCommit
from orderflow_runtime.guards import RAW_BODY
from orderflow_runtime.kafka import EventProducer
from orderflow_runtime.web import bearer
from orderflow_schemas import MAX_ORDERS_PER_REQUEST, OrderAction
from orderflow_schemas.topics import ORDER_ACTIONS, ORDERS_INBOUND
from pydantic import BaseModel, Field

from ..intake import BadRequest, validate_body
from ..processor import EVENT_ID_HEADER
from ..submissions import Submission
from .deps import CanRead, CanWrite, Pool, Producer, may_write

router = APIRouter(prefix="/api/v1/orders", tags=["orders"], responses={
    401: {"description": "no API key, or an unknown one"},
    403: {"description": "the API key lacks the route's scope"},
    429: {"description": "the API key is over its rate limit; see Retry-After"},
})


class OrdersAnswer(BaseModel):
    accepted: list[dict[str, Any]]
    rejected: list[dict[str, Any]]


class ActionBody(BaseModel):
    action: str = Field(min_length=1, description="ConfirmOrder, ShipOrder, ... or any name")
    versionTag: str = Field(min_length=1)
    language: str | None = None
    data: Any = None


# The route reads its body itself (no body parameter, the hot path), so the body goes into
# OpenAPI by hand. Each order is validated on its own and an invalid one is answered in
# ``rejected`` (seed 002), so an item is any value here; its fields are those of OrderDocument.
ORDERS_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["orders"], "properties": {"orders": {
        "type": "array", "minItems": 1, "maxItems": MAX_ORDERS_PER_REQUEST,
        "items": {"description": "An order document (OrderDocument in "
                  "docs/schemas); one that is not valid comes back in rejected"}}}}}}},
    # Validated from the bytes by pydantic, which refuses what the edge guards look for.
    **RAW_BODY}


@router.post("", dependencies=[CanWrite], response_model=OrdersAnswer, openapi_extra=ORDERS_BODY,
             responses={400: {"description": "malformed body, empty list or over 1000 orders"},
                        413: {"description": "the body is larger than ORDERFLOW_MAX_BODY_BYTES"}})
async def post_orders(request: Request) -> Response:
    """Accept 1 to 1000 orders; each is accepted or rejected on its own."""
    try:
        accepted, rejected = validate_body(await request.body())
    except BadRequest as exc:
        raise HTTPException(400, str(exc)) from exc
    if accepted:
        # From the app's state, not as dependencies: resolving a dependency cost as much as
        # validating the order, on the route every single order takes.
        state = request.app.state
        submissions: GroupCommit[Submission] = state.submissions
        producer: EventProducer = state.producer
        await submissions([(a.order.externalOrderId, a.version_tag) for a in accepted])
        await producer.send_many(ORDERS_INBOUND, [
            (a.order.externalOrderId, a.document, {EVENT_ID_HEADER: a.event_id})
            for a in accepted])
    # Serialised directly: validating the answer against OrdersAnswer again is the hot path's
    # largest avoidable cost (the model still documents it in OpenAPI).
    return Response(orjson.dumps({"accepted": [a.answer() for a in accepted],
                                  "rejected": [r.answer() for r in rejected]}),
                    media_type="application/json")


async def post_orders_directly(request: Request) -> Response:
    """``post_orders`` with what its ``CanWrite`` dependency does, for ``serve_directly``: the
    route every order takes when orders come one per request."""
    await may_write(request, await bearer(request))
    return await post_orders(request)


@router.get("/{external_order_id}", dependencies=[CanRead],
            responses={404: {"description": "order not found"}})
async def get_order(external_order_id: str, pool: Pool) -> dict[str, Any]:
    """The order as last processed, its versionTag, and whether a newer version is pending."""
    row = await pool.fetchrow(
        """
        SELECT o.document, o.version_tag, o.processed_at, s.version_tag AS submitted_tag,
               s.submitted_at
        FROM orders o LEFT JOIN submissions s USING (external_order_id)
        WHERE o.external_order_id = $1
        """, external_order_id)
    if row is None:
        pending = await pool.fetchval(
            "SELECT 1 FROM submissions WHERE external_order_id = $1", external_order_id)
        if pending:
            return JSONResponse(status_code=404, content={  # type: ignore[return-value]
                "detail": "order not processed yet", "pending": True})
        raise HTTPException(404, "order not found")
    pending = (row["submitted_tag"] is not None and row["submitted_tag"] != row["version_tag"]
               and row["submitted_at"] > row["processed_at"])
    return {"externalOrderId": external_order_id, "versionTag": row["version_tag"],
            "pending": pending, "processedAt": row["processed_at"].isoformat(),
            "order": row["document"]}


@router.post("/{external_order_id}/action", status_code=202, dependencies=[CanWrite],
             responses={400: {"description": "bad request"},
                        404: {"description": "order not found or versionTag not the current one"},
                        422: {"description": "order has no contact"}})
async def post_action(external_order_id: str, body: ActionBody, pool: Pool,
                      producer: Producer) -> dict[str, Any]:
    """Seed 002: an action on an order already processed, quoting its current versionTag."""
    row = await pool.fetchrow(
        "SELECT version_tag, has_contact FROM orders WHERE external_order_id = $1",
        external_order_id)
    if row is None:
        raise HTTPException(404, "order not found")
    if row["version_tag"] != body.versionTag:
        raise HTTPException(404, "versionTag does not match the order's current version")
    if not row["has_contact"]:
        raise HTTPException(422, "order has no contact (externalCustomerId, email or phone)")
    action = OrderAction(action=body.action, external_order_id=external_order_id,
                         version_tag=body.versionTag, language=body.language, data=body.data)
    await producer.send(ORDER_ACTIONS, external_order_id, action)
    return {"actionId": action.id, "status": "accepted"}
