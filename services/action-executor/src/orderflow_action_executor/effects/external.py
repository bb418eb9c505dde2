"""The external-action effect: published to ``orderflow.external-actions`` for connectors. The
execution message goes out with the attempt's result, through the outbox, in the transaction
that records the attempt: published once, and not at all by a worker that lost its claim."""

from __future__ import annotations

from orderflow_schemas import ActionRequest, ExternalActionEffect, ExternalActionExecution
from orderflow_schemas.topics import EXTERNAL_ACTIONS

from .outcome import Attempt


def external_action(request: ActionRequest) -> Attempt:
    effect = request.effect
    assert isinstance(effect, ExternalActionEffect)
    execution = ExternalActionExecution(
        id=request.id, external_order_id=request.external_order_id, action_id=effect.action,
        action_type="EFFECT", inputs=effect.params, request_id=request.id)
    return Attempt.ok(f"published external action {effect.action!r}",
                      emits=((EXTERNAL_ACTIONS, request.external_order_id, execution),))
