"""External actions, templates, executions and comments in PostgreSQL. Every change that others
hear of (a definition, an execution, an accepted comment) is written with its message in the
outbox, in one transaction: never half-written, never published without being stored."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from orderflow_runtime import outbox
from orderflow_runtime.kafka import EventProducer
from orderflow_schemas import (
    Comment,
    ExternalActionDefinition,
    ExternalActionExecution,
    ExternalActionSpec,
    ExternalUser,
)
from orderflow_schemas.external_actions import ActionType, localized
from orderflow_schemas.ids import derived
from orderflow_schemas.topics import (
    COMMENTS_ACCEPTED,
    EXTERNAL_ACTION_DEFINITIONS,
    EXTERNAL_ACTIONS,
)

_NS = uuid.UUID("3f7e4c2a-8a51-4c0e-9d3b-6b1f2a9c0e41")
_ACTION = "action_id, external_order_id, action_type, spec, version, created_at, updated_at"
_TEMPLATE = "template_id, action_type, spec, version, created_at, updated_at"


@dataclass(frozen=True)
class Action:
    """An action on one order, or a template (``order_id`` None) for every order."""

    id: str
    order_id: str | None
    spec: dict[str, Any]  # the ExternalActionSpec as sent (camelCase), plus conditions
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Any) -> Action:
        order_id = row.get("external_order_id")
        return cls(row["action_id"] if order_id else row["template_id"], order_id, row["spec"],
                   row["version"], row["created_at"], row["updated_at"])

    @property
    def type(self) -> ActionType:
        return self.spec["type"]  # type: ignore[no-any-return]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, **({"externalOrderId": self.order_id} if self.order_id else {}),
                **self.spec, "version": self.version, "source":
                "order" if self.order_id else "template",
                "createdAt": self.created_at.isoformat(), "updatedAt": self.updated_at.isoformat()}


class Stale(Exception):
    def __init__(self, current: Action) -> None:
        self.current = current


class ActionStore:
    def __init__(self, pool: asyncpg.Pool, producer: EventProducer) -> None:
        self.pool = pool
        self.producer = producer

    async def _publish(self, pending: list[outbox.Pending]) -> None:
        # After the commit; what fails here stays in the outbox for the relay.
        await outbox.publish(self.pool, self.producer, pending)

    # Actions on one order

    async def create(self, order_id: str, spec: ExternalActionSpec) -> Action:
        action, _ = await self.define(order_id, spec, None)
        return action

    async def define(self, order_id: str, spec: ExternalActionSpec,
                     request_id: str | None) -> tuple[Action, bool]:
        """A new action on the order, and True; for a trigger effect (``request_id``) an
        attempt made again gets the action its first attempt defined, and False."""
        action_id = derived(_NS, f"effect:{request_id}") if request_id \
            else str(uuid.uuid4())
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"INSERT INTO external_actions(action_id, external_order_id, action_type, spec) "
                f"VALUES ($1, $2, $3, $4) ON CONFLICT (action_id) DO NOTHING RETURNING {_ACTION}",
                action_id, order_id, spec.type, spec.to_dict())
            if row is None:
                row = await conn.fetchrow(f"SELECT {_ACTION} FROM external_actions "
                                          "WHERE action_id = $1", action_id)
                return Action.of(row), False
            action = Action.of(row)
            pending = await outbox.add(conn, [_defined(action)])
        await self._publish(pending)
        return action, True

    async def page(self, order_id: str, group: str | None, limit: int,
                   after: str | None) -> list[Action]:
        rows = await self.pool.fetch(
            f"SELECT {_ACTION} FROM external_actions WHERE external_order_id = $1 "
            "AND ($2::text IS NULL OR spec->'groups' ? $2) "
            "AND ($3::text IS NULL OR action_id > $3) ORDER BY action_id LIMIT $4",
            order_id, group, after, limit)
        return [Action.of(r) for r in rows]

    async def get(self, order_id: str, action_id: str) -> Action | None:
        row = await self.pool.fetchrow(
            f"SELECT {_ACTION} FROM external_actions WHERE external_order_id = $1 "
            "AND action_id = $2", order_id, action_id)
        return Action.of(row) if row else None

    async def update(self, order_id: str, action_id: str, spec: ExternalActionSpec,
                     version: int) -> Action | None:
        """The new version, None when there is no such action, ``Stale`` (with the current
        one) when ``version`` is not the current version."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"SELECT {_ACTION} FROM external_actions WHERE external_order_id = $1 "
                "AND action_id = $2 FOR UPDATE", order_id, action_id)
            if row is None:
                return None
            if row["version"] != version:
                raise Stale(Action.of(row))
            row = await conn.fetchrow(
                "UPDATE external_actions SET spec = $2, action_type = $3, version = version + 1, "
                f"updated_at = now() WHERE action_id = $1 RETURNING {_ACTION}",
                action_id, spec.to_dict(), spec.type)
            action = Action.of(row)
            pending = await outbox.add(conn, [_defined(action)])
        await self._publish(pending)
        return action

    async def delete(self, order_id: str, action_id: str) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"DELETE FROM external_actions WHERE external_order_id = $1 AND action_id = $2 "
                f"RETURNING {_ACTION}", order_id, action_id)
            if row is None:
                return False
            pending = await outbox.add(conn, [_defined(Action.of(row), deleted=True)])
        await self._publish(pending)
        return True

    # Templates for every order

    async def create_template(self, spec: dict[str, Any]) -> Action:
        row = await self.pool.fetchrow(
            f"INSERT INTO action_templates(template_id, action_type, spec) VALUES ($1, $2, $3) "
            f"RETURNING {_TEMPLATE}", str(uuid.uuid4()), spec["type"], spec)
        return Action.of(row)

    async def templates(self, limit: int, after: str | None) -> list[Action]:
        rows = await self.pool.fetch(
            f"SELECT {_TEMPLATE} FROM action_templates WHERE ($1::text IS NULL OR "
            "template_id > $1) ORDER BY template_id LIMIT $2", after, limit)
        return [Action.of(r) for r in rows]

    async def template(self, template_id: str) -> Action | None:
        row = await self.pool.fetchrow(
            f"SELECT {_TEMPLATE} FROM action_templates WHERE template_id = $1", template_id)
        return Action.of(row) if row else None

    async def update_template(self, template_id: str, spec: dict[str, Any],
                              version: int) -> Action | None:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(f"SELECT {_TEMPLATE} FROM action_templates "
                                      "WHERE template_id = $1 FOR UPDATE", template_id)
            if row is None:
                return None
            if row["version"] != version:
                raise Stale(Action.of(row))
            row = await conn.fetchrow(
                "UPDATE action_templates SET spec = $2, action_type = $3, version = version + 1, "
                f"updated_at = now() WHERE template_id = $1 RETURNING {_TEMPLATE}",
                template_id, spec, spec["type"])
            return Action.of(row)

    async def delete_template(self, template_id: str) -> bool:
        done = await self.pool.execute("DELETE FROM action_templates WHERE template_id = $1",
                                       template_id)
        return done != "DELETE 0"

    async def all_templates(self) -> list[Action]:
        rows = await self.pool.fetch(f"SELECT {_TEMPLATE} FROM action_templates "
                                     "ORDER BY template_id")
        return [Action.of(r) for r in rows]

    # Executions and comments

    async def execute(self, order_id: str, action: Action, user: ExternalUser,
                      inputs: dict[str, Any], url: str | None,
                      idempotency_key: str | None) -> tuple[dict[str, Any], bool]:
        """The execution (an earlier one with the same Idempotency-Key, if any) and whether it
        is new."""
        execution_id = derived(_NS, f"{order_id}:{action.id}:{idempotency_key}") \
            if idempotency_key else str(uuid.uuid4())
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO executions(execution_id, external_order_id, action_id, action_type, "
                "user_id, user_name, inputs, url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                "ON CONFLICT (execution_id) DO NOTHING RETURNING *", execution_id, order_id,
                action.id, action.type, user.id, user.name, inputs, url)
            new = row is not None
            if row is None:
                row = await conn.fetchrow("SELECT * FROM executions WHERE execution_id = $1",
                                          execution_id)
            pending = await outbox.add(conn, [(EXTERNAL_ACTIONS, order_id, ExternalActionExecution(
                id=execution_id, external_order_id=order_id, action_id=action.id,
                action_type="LINK" if action.type == "LINK" else "FORM",
                action_name=localized(action.spec["name"], "en_US"),
                user=user, inputs=inputs, url=url, occurred_at=row["created_at"]))]) \
                if new else []
        await self._publish(pending)
        return _execution(row), new

    async def add_comment(self, comment: Comment) -> bool:
        """Store and announce an accepted comment; False when it was accepted before."""
        async with self.pool.acquire() as conn, conn.transaction():
            new = await conn.fetchval(
                "INSERT INTO comments(comment_id, external_order_id, related_action_id, text, "
                "author) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
                comment.id, comment.external_order_id, comment.related_action_id, comment.text,
                comment.author)
            pending = await outbox.add(conn, [(COMMENTS_ACCEPTED, comment.external_order_id,
                                               comment)]) if new else []
        await self._publish(pending)
        return bool(new)

    async def relation_problem(self, order_id: str, action_id: str | None) -> str | None:
        """Why a comment on ``order_id`` may not relate to ``action_id``, if it may not."""
        if action_id is None:
            return None
        owner = await self.pool.fetchval(
            "SELECT external_order_id FROM external_actions WHERE action_id = $1", action_id)
        if owner is None:
            is_template = await self.pool.fetchval(
                "SELECT 1 FROM action_templates WHERE template_id = $1", action_id)
            return None if is_template else f"no external action {action_id!r}"
        if owner != order_id:
            return f"external action {action_id!r} belongs to another order"
        return None


def _defined(action: Action, deleted: bool = False) -> tuple[Any, str | None, Any]:
    spec = action.spec
    assert action.order_id is not None
    return (EXTERNAL_ACTION_DEFINITIONS, action.order_id, ExternalActionDefinition(
        id=derived(_NS, f"{action.id}:{action.version}:{deleted}"),
        action_id=action.id, external_order_id=action.order_id, action_type=action.type,
        name=spec["name"], groups=spec.get("groups", []), action_version=action.version,
        url=spec.get("url"), elements=spec.get("elements", []),
        confirm_label=spec.get("confirmLabel"), cancel_label=spec.get("cancelLabel"),
        deleted=deleted))


def _execution(row: Any) -> dict[str, Any]:
    return {"id": row["execution_id"], "externalOrderId": row["external_order_id"],
            "actionId": row["action_id"], "type": row["action_type"],
            "user": {"id": row["user_id"], "name": row["user_name"]}, "inputs": row["inputs"],
            "url": row["url"], "executedAt": row["created_at"].isoformat()}
