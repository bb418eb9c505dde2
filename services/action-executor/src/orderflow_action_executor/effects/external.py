"""The external-action effect. Firing one: the execution message goes out with the attempt's
result, through the outbox, in the transaction that records the attempt (published once, and not
at all by a worker that lost its claim). Defining one: the action's id comes from the request's,
so an attempt made again finds it there and creates nothing twice."""

from __future__ import annotations

from orderflow_schemas import ActionRequest, ExternalActionEffect, ExternalActionExecution
from orderflow_schemas.topics import EXTERNAL_ACTIONS

from ..external_actions.store import ActionStore
from .outcome import Attempt


async def external_action(request: ActionRequest, actions: ActionStore) -> Attempt:
    effect = request.effect
    assert isinstance(effect, ExternalActionEffect)
    if effect.define is not None:
        action, new = await actions.define(request.external_order_id, effect.define, request.id)
        return Attempt.ok(f"{'defined' if new else 'had defined'} external action {action.id} "
                          f"({action.type})")
    assert effect.action is not None
    execution = ExternalActionExecution(
        id=request.id, external_order_id=request.external_order_id, action_id=effect.action,
        action_type="EFFECT", inputs=effect.params, request_id=request.id)
    return Attempt.ok(f"published external action {effect.action!r}",
                      emits=((EXTERNAL_ACTIONS, request.external_order_id, execution),))
