"""The external-action effect: published to ``orderflow.external-actions`` for connectors."""

from __future__ import annotations

import asyncpg
from orderflow_runtime import outbox
from orderflow_schemas import ActionRequest, ExternalActionEffect, ExternalActionExecution
from orderflow_schemas.topics import EXTERNAL_ACTIONS

from .outcome import Attempt


async def publish_external_action(conn: asyncpg.Connection, request: ActionRequest) -> Attempt:
    effect = request.effect
    assert isinstance(effect, ExternalActionEffect)
    execution = ExternalActionExecution(
        id=request.id, external_order_id=request.external_order_id, action_id=effect.action,
        action_type="EFFECT", inputs=effect.params, request_id=request.id)
    await outbox.add(conn, [(EXTERNAL_ACTIONS, request.external_order_id, execution)])
    return Attempt.ok(f"published external action {effect.action!r}")
