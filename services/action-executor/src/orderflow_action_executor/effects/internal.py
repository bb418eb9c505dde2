"""Seed 001's internal effects.

- ``task``: an open task on the order, listed over HTTP (``api/tasks.py``) until someone
  completes it.
- ``notify_manager``: an e-mail to the manager (``params.to``, else ``ORDERFLOW_MANAGER_EMAIL``)
  and a record of it, listed per order.
- ``change_order`` / ``change_customer``: the changes go to ``orderflow.orders.changes``;
  ingest merges them onto the order as it stands when it reaches them (not as the executor last
  saw it, which a newer version may have replaced since), validates and versions the result
  like any change, and its event can trigger in turn. A change that changes nothing makes no
  event there, so a trigger that sets what it listens to does not loop. The changes are first
  checked on the order as the executor last saw it on ``orderflow.order-events`` (or, before
  its consumer saw it, as the trigger saw it): one ingest would refuse is dead at once.

Ids come from the request's, and the changes go out through the outbox with the attempt's
result: an attempt made again creates, sends and mails nothing twice (the e-mail's
Message-ID is the request's)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from orderflow_schemas import ActionRequest, InternalEffect, OrderChanges, OrderDocument
from orderflow_schemas.ids import derived
from orderflow_schemas.topics import ORDER_CHANGES
from pydantic import ValidationError

from ..config import ExecutorSettings
from ..external_actions import orders
from ..templates import TemplateError, context_for, render
from .email import deliver, message_id
from .outcome import Attempt

_NS = uuid.UUID("d1c9a4f2-3b7e-4e61-9a0d-2f5c8b7e6a13")


async def internal(request: ActionRequest, pool: asyncpg.Pool,
                   settings: ExecutorSettings) -> Attempt:
    effect = request.effect
    assert isinstance(effect, InternalEffect)
    ctx = context_for(request.external_order_id, request.trigger_id, request.order,
                      request.customer_id)
    try:
        text = {k: render(v, ctx) for k, v in effect.params.items()
                if k in ("title", "note", "subject", "text")}
    except TemplateError as exc:
        return Attempt.permanent(f"template cannot be rendered: {exc}")
    match effect.kind:
        case "task":
            return await _task(request, pool, text, effect.params.get("assignee"))
        case "notify_manager":
            return await _notify(request, pool, settings, text, effect.params.get("to"))
    return await _change(request, pool, effect.params["changes"])


async def _task(request: ActionRequest, pool: asyncpg.Pool, text: dict[str, str],
                assignee: str | None) -> Attempt:
    task_id = derived(_NS, f"task:{request.id}")
    await pool.execute(
        "INSERT INTO tasks(task_id, external_order_id, trigger_id, title, note, assignee) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (task_id) DO NOTHING", task_id,
        request.external_order_id, request.trigger_id, text["title"], text.get("note"), assignee)
    return Attempt.ok(f"task {task_id} opened: {text['title']}")


async def _notify(request: ActionRequest, pool: asyncpg.Pool, settings: ExecutorSettings,
                  text: dict[str, str], to: str | None) -> Attempt:
    recipient = to or settings.manager_email
    if not recipient:
        return Attempt.permanent("no manager to notify: set ORDERFLOW_MANAGER_EMAIL or params.to")
    sent = await deliver(settings, recipient, text["subject"], text["text"],
                         message_id(request.id, settings))
    if sent.outcome.value == "succeeded":
        await pool.execute(
            "INSERT INTO notifications(notification_id, external_order_id, trigger_id, "
            "recipient, subject, text) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (notification_id) DO NOTHING", request.id, request.external_order_id,
            request.trigger_id, recipient, text["subject"], text["text"])
        return Attempt.ok(f"manager notified: {sent.detail}")
    return sent


async def _change(request: ActionRequest, pool: asyncpg.Pool,
                  changes: dict[str, Any]) -> Attempt:
    known = await orders.order(pool, request.external_order_id)
    current: dict[str, Any] = known["document"] if known else request.order
    try:
        OrderDocument.model_validate({**current, **changes})
    except ValidationError as exc:
        why = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'order'}: {e['msg']}"
                        for e in exc.errors())
        return Attempt.permanent(f"ingest would refuse the changed order: {why}")
    message = OrderChanges(id=derived(_NS, f"{request.id}:changes"),
                           external_order_id=request.external_order_id, changes=changes,
                           source=request.id)
    return Attempt.ok(f"changes of {', '.join(sorted(changes))} sent to ingest",
                      emits=((ORDER_CHANGES, request.external_order_id, message),))
