"""``/api/v1/tasks``: the tasks internal effects opened (seed 001), open ones first of all, per
order or assignee; completing one records who did it. ``/api/v1/notifications``: the manager
notifications sent, per order."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from orderflow_runtime.web import require_scope
from orderflow_schemas import ExternalUser
from orderflow_schemas.base import WireModel

from .paging import BAD_CURSOR, Pool, decode_cursor, next_cursor

router = APIRouter(tags=["tasks"])
CanRead = Depends(require_scope("tasks.read"))
CanWrite = Depends(require_scope("tasks.write"))


class Completion(WireModel):
    user: ExternalUser


def _task(row: Any) -> dict[str, Any]:
    return {"id": row["task_id"], "externalOrderId": row["external_order_id"],
            "triggerId": row["trigger_id"], "title": row["title"], "note": row["note"],
            "assignee": row["assignee"], "state": row["state"],
            "createdAt": row["created_at"].isoformat(),
            "doneAt": row["done_at"].isoformat() if row["done_at"] else None,
            "doneBy": {"id": row["done_by_id"], "name": row["done_by_name"]}
            if row["done_by_id"] else None}


@router.get("/api/v1/tasks", dependencies=[CanRead], responses=BAD_CURSOR)
async def list_tasks(pool: Pool,
                     state: Literal["open", "done", "all"] = "open",
                     order: Annotated[str | None, Query(max_length=200)] = None,
                     assignee: Annotated[str | None, Query(max_length=200)] = None,
                     limit: Annotated[int, Query(ge=1, le=500)] = 100,
                     cursor: Annotated[str | None, Query(max_length=500)] = None,
                     ) -> dict[str, Any]:
    """Oldest first (the open-task list is a queue); ``nextCursor`` pages on."""
    at, key = decode_cursor(cursor) if cursor else (None, "")
    rows = await pool.fetch(
        "SELECT * FROM tasks WHERE ($1::text = 'all' OR state = $1) "
        "AND ($2::text IS NULL OR external_order_id = $2) "
        "AND ($3::text IS NULL OR assignee = $3) "
        "AND ($4::timestamptz IS NULL OR (created_at, task_id) > ($4, $5)) "
        "ORDER BY created_at, task_id LIMIT $6", state, order, assignee, at, key, limit)
    return {"tasks": [_task(r) for r in rows],
            "nextCursor": next_cursor(rows, limit, "created_at", "task_id")}


@router.get("/api/v1/tasks/{task_id}", dependencies=[CanRead],
            responses={404: {"description": "no such task"}})
async def get_task(task_id: str, pool: Pool) -> dict[str, Any]:
    row = await pool.fetchrow("SELECT * FROM tasks WHERE task_id = $1", task_id)
    if row is None:
        raise HTTPException(404, "no such task")
    return _task(row)


@router.post("/api/v1/tasks/{task_id}/complete", dependencies=[CanWrite],
             responses={404: {"description": "no such task"},
                        409: {"description": "completed already, by someone else"}})
async def complete_task(task_id: str, body: Completion, pool: Pool) -> dict[str, Any]:
    """Done, by the user given; completing it again as the same user changes nothing."""
    row = await pool.fetchrow(
        "UPDATE tasks SET state = 'done', done_at = now(), done_by_id = $2, done_by_name = $3 "
        "WHERE task_id = $1 AND state = 'open' RETURNING *", task_id, body.user.id,
        body.user.name)
    if row is not None:
        return _task(row)
    row = await pool.fetchrow("SELECT * FROM tasks WHERE task_id = $1", task_id)
    if row is None:
        raise HTTPException(404, "no such task")
    if row["done_by_id"] != body.user.id:
        raise HTTPException(409, f"completed already by {row['done_by_name']}")
    return _task(row)


@router.get("/api/v1/notifications", dependencies=[CanRead], responses=BAD_CURSOR)
async def list_notifications(pool: Pool,
                             order: Annotated[str | None, Query(max_length=200)] = None,
                             limit: Annotated[int, Query(ge=1, le=500)] = 100,
                             cursor: Annotated[str | None, Query(max_length=500)] = None,
                             ) -> dict[str, Any]:
    at, key = decode_cursor(cursor) if cursor else (None, "")
    rows = await pool.fetch(
        "SELECT * FROM notifications WHERE ($1::text IS NULL OR external_order_id = $1) "
        "AND ($2::timestamptz IS NULL OR (created_at, notification_id) > ($2, $3)) "
        "ORDER BY created_at, notification_id LIMIT $4", order, at, key, limit)
    return {"notifications": [
        {"id": r["notification_id"], "externalOrderId": r["external_order_id"],
         "triggerId": r["trigger_id"], "to": r["recipient"], "subject": r["subject"],
         "text": r["text"], "sentAt": r["created_at"].isoformat()} for r in rows],
        "nextCursor": next_cursor(rows, limit, "created_at", "notification_id")}
