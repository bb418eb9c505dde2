"""Action requests from the topic become tracking rows; a request seen before (same id) is
ignored, which is what makes each effect happen once. New rows are announced on a PostgreSQL
channel, so that every executor replica looks at once, not only the one whose intake wrote them
(``Worker.listen_forever``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import asyncpg
from orderflow_runtime.kafka import Record
from orderflow_schemas import ActionRequest, decode

# Every executor replica listens; a request row that became due (new, re-driven, its endpoint
# enabled again) is announced here.
CHANNEL = "orderflow_executor_requests"


async def announce(conn: asyncpg.Connection | asyncpg.Pool) -> None:
    await conn.execute(f"NOTIFY {CHANNEL}")


class RequestIntake:
    def __init__(self, pool: asyncpg.Pool, on_new: Callable[[], None] = lambda: None) -> None:
        self.pool = pool
        self.on_new = on_new  # wakes the worker: a new request is not left waiting for a poll

    async def __call__(self, records: Sequence[Record]) -> None:
        requests = [decode(ActionRequest, r.value) for r in records]  # DecodeError: poison
        # One statement for the batch (executemany ran one per row); a request twice in the
        # batch is inserted once, as DO NOTHING skips what the statement itself inserted.
        await self.pool.execute(
            "INSERT INTO requests(request_id, external_order_id, payload) "
            "SELECT i, o, p::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) AS t(i, o, p) "
            "ON CONFLICT (request_id) DO NOTHING",
            [r.id for r in requests], [r.external_order_id for r in requests],
            [r.to_wire().decode() for r in requests])
        self.on_new()
        await announce(self.pool)
