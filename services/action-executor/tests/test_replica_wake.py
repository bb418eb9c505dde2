"""A request written by another executor replica's intake is performed at once, not after the
idle poll: every replica listens to the intake's announcements (PostgreSQL NOTIFY)."""

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


async def test_another_replicas_request_is_performed_without_waiting_for_the_poll(
        kafka_bootstrap: str, database_url: str, hook: Any) -> None:
    calls, port = hook
    settings = ExecutorSettings(
        kafka_bootstrap=kafka_bootstrap, database_url=database_url,
        topic_prefix=f"wake{uuid.uuid4().hex[:8]}.", allowed_hosts="127.0.0.1",
        egress="allow-list-only", poll_interval=30)
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        await asyncio.sleep(1.5)  # the worker has looked once and sleeps for up to 30 s
        request = ActionRequest(
            external_order_id="o-wake", trigger_id="t-1", trigger_name="wake", firing_id="f-1",
            event_id=str(uuid.uuid4()),
            effect=HttpEffect(url=f"http://127.0.0.1:{port}/hook", expected_status=[200]))
        # Another replica's intake: its own pool, no way to call this worker's wake().
        other = RequestIntake(app.state.pool)
        sent = time.monotonic()
        await other([Record(topic="t", partition=0, offset=0, key=b"o-wake",
                            value=request.to_wire(), headers={})])
        deadline = sent + 10
        while not calls:
            assert time.monotonic() < deadline, "the request waited for the idle poll"
            await asyncio.sleep(0.05)
        assert calls[0][0] - sent < 3  # (arrival time, Idempotency-Key)
