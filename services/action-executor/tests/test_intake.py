"""The intake on the real broker and database: a request that comes twice, in one batch or in
two, becomes one tracking row and is performed once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from orderflow_action_executor.bootstrap import build_app
from orderflow_action_executor.intake import RequestIntake

from .conftest import hook_request, local_settings, record_of

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_a_request_twice_in_a_batch_and_again_later_is_performed_once(
        kafka_bootstrap: str, database_url: str, hook: Any) -> None:
    calls, port = hook
    app = build_app(local_settings(kafka_bootstrap, database_url, "in"))
    async with app.router.lifespan_context(app):
        requests = [hook_request(port, f"o-{n}", f"f-{n}", "twice") for n in range(2)]
        records = [record_of(r, n) for n, r in enumerate(requests)]
        intake = RequestIntake(app.state.pool)
        await intake([records[0], records[1], records[0]])
        deadline = time.monotonic() + 10
        while len(calls) < 2:
            assert time.monotonic() < deadline, f"performed: {calls}"
            await asyncio.sleep(0.05)
        await intake([records[1]])
        await asyncio.sleep(1.0)
        assert sorted(key for _, key in calls) == sorted(r.id for r in requests)
        stored = await app.state.pool.fetchval(
            "SELECT count(*) FROM requests WHERE request_id = ANY($1::text[])",
            [r.id for r in requests])
        assert stored == 2
