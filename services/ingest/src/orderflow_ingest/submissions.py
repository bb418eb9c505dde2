"""What was submitted per order: its last versionTag and when, from which
``GET /api/v1/orders/{id}`` tells a pending newer version. Written before the order goes to the
inbound topic, by group commit: one statement for the requests that arrive together."""

from __future__ import annotations

import asyncpg
from orderflow_runtime.groupcommit import GroupCommit

UPSERT = """
INSERT INTO submissions(external_order_id, version_tag, submitted_at)
SELECT *, now() FROM unnest($1::text[], $2::text[])
ON CONFLICT (external_order_id) DO UPDATE
SET version_tag = excluded.version_tag, submitted_at = excluded.submitted_at
"""

Submission = tuple[str, str]  # (externalOrderId, versionTag)


def recorder(pool: asyncpg.Pool) -> GroupCommit[Submission]:
    async def write(rows: list[Submission]) -> None:
        # The last submission of an order wins, within a request and across those written
        # together (one statement cannot update a row twice).
        last = dict(rows)
        await pool.execute(UPSERT, list(last), list(last.values()))

    return GroupCommit(write)
