"""A request written by another executor replica's intake is performed at once, not after the
idle poll: every replica listens to the intake's announcements (PostgreSQL NOTIFY)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from orderflow_action_executor.bootstrap import build_app
from orderflow_action_executor.intake import RequestIntake

from .conftest import hook_request, local_settings, record_of

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_another_replicas_request_is_performed_without_waiting_for_the_poll(
        kafka_bootstrap: str, database_url: str, hook: Any) -> None:
    calls, port = hook
    app = build_app(local_settings(kafka_bootstrap, database_url, "wake", poll_interval=30))
    async with app.router.lifespan_context(app):
        await asyncio.sleep(1.5)  # the worker has looked once and sleeps for up to 30 s
        request = hook_request(port, "o-wake", "f-1", "wake")
        # Another replica's intake: its own pool, no way to call this worker's wake().
        other = RequestIntake(app.state.pool)
        sent = time.monotonic()
        await other([record_of(request)])
        deadline = sent + 10
        while not calls:
            assert time.monotonic() < deadline, "the request waited for the idle poll"
            await asyncio.sleep(0.05)
        assert calls[0][0] - sent < 3  # (arrival time, Idempotency-Key)
