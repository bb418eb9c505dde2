"""Comments connectors produce to ``orderflow.external-actions.comments``: accepted (stored and
announced on ``orderflow.comments`` for the timeline) when the order is known and the related
action, if any, is one of the order's; otherwise dead-lettered with the reason, and the consumer
goes on. A comment seen before (same id) is accepted once."""

from __future__ import annotations

from collections.abc import Sequence

from orderflow_runtime.kafka import Record
from orderflow_schemas import Comment, DecodeError, decode

from . import orders
from .store import ActionStore


class CommentIntake:
    def __init__(self, store: ActionStore) -> None:
        self.store = store

    async def __call__(self, records: Sequence[Record]) -> None:
        for record in records:
            comment = decode(Comment, record.value)  # DecodeError: poison, dead-lettered
            if await orders.order(self.store.pool, comment.external_order_id) is None:
                raise DecodeError(f"comment {comment.id}: the executor has seen no order "
                                  f"{comment.external_order_id!r}")
            problem = await self.store.relation_problem(comment.external_order_id,
                                                        comment.related_action_id)
            if problem is not None:
                raise DecodeError(f"comment {comment.id}: relatedActionId: {problem}")
            await self.store.add_comment(comment)
