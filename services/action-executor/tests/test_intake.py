"""The intake on the real broker and database: a request that comes twice, in one batch or in
two, becomes one tracking row and is performed once."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from orderflow_action_executor.bootstrap import build_app
from orderflow_action_executor.config import ExecutorSettings
from orderflow_action_executor.intake import RequestIntake
from orderflow_runtime.kafka import Record
from orderflow_schemas import ActionRequest, HttpEffect

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_a_request_twice_in_a_batch_and_again_later_is_performed_once(
        kafka_bootstrap: str, database_url: str, hook: Any) -> None:
    calls, port = hook
    settings = ExecutorSettings(
        kafka_bootstrap=kafka_bootstrap, database_url=database_url,
        topic_prefix=f"in{uuid.uuid4().hex[:8]}.", allowed_hosts="127.0.0.1",
        egress="allow-list-only")
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        requests = [ActionRequest(
            external_order_id=f"o-{n}", trigger_id="t-1", trigger_name="twice",
            firing_id=f"f-{n}", event_id=str(uuid.uuid4()),
            effect=HttpEffect(url=f"http://127.0.0.1:{port}/hook", expected_status=[200]))
            for n in range(2)]
        records = [Record(topic="t", partition=0, offset=n, key=r.external_order_id.encode(),
                          value=r.to_wire(), headers={}) for n, r in enumerate(requests)]
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
