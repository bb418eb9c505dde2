"""Seed 001's internal effects.

- ``task``: an open task on the order, listed over HTTP (``api/tasks.py``) until someone
  completes it.
- ``notify_manager``: an e-mail to the manager (``params.to``, else ``ORDERFLOW_MANAGER_EMAIL``)
  and a record of it, listed per order.
- ``change_order`` / ``change_customer``: the order as the executor last saw it on
  ``orderflow.order-events``, with the changes, sent to ``orderflow.orders.inbound``: ingest
  validates and versions it like any change, and its event can trigger in turn. A change that
  changes nothing is not sent (a trigger that sets what it listens to does not loop). An order
  the executor has not seen yet (its consumer lags) is taken as the trigger saw it; a change
  ingest would refuse is not retried.

Ids come from the request's, and the inbound document goes out through the outbox with the
attempt's result: an attempt made again creates, sends and mails nothing twice (the e-mail's
Message-ID is the request's)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import orjson
from orderflow_schemas import ActionRequest, InternalEffect, OrderDocument
from orderflow_schemas.ids import derived
from orderflow_schemas.topics import ORDERS_INBOUND
from pydantic import ValidationError

from ..config import ExecutorSettings
from ..external_actions import orders
from ..templates import TemplateError, context_for, render
from .email import deliver, message_id
from .outcome import Attempt

_NS = uuid.UUID("d1c9a4f2-3b7e-4e61-9a0d-2f5c8b7e6a13")


class Document:
    """An order document as the inbound topic carries it (the outbox calls ``to_wire``)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def to_wire(self) -> bytes:
        return orjson.dumps(self.document)


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
    changed = {**current, **changes}
    if changed == current:
        return Attempt.ok("no change: the order has these values already")
    try:
        OrderDocument.model_validate(changed)
    except ValidationError as exc:
        why = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'order'}: {e['msg']}"
                        for e in exc.errors())
        return Attempt.permanent(f"ingest would refuse the changed order: {why}")
    fields = ", ".join(sorted(k for k in changes if current.get(k) != changes[k]))
    return Attempt.ok(f"order changed ({fields}), sent to ingest",
                      emits=((ORDERS_INBOUND, request.external_order_id, Document(changed)),))
