"""What the executor's tests share: a real SMTP server (aiosmtpd) that keeps what it receives,
local HTTP servers for effects to call, and the executor served in-process with a client of its
API."""

from __future__ import annotations

import email
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from orderflow_action_executor.bootstrap import build_app
from orderflow_action_executor.config import ExecutorSettings
from orderflow_devstack import net
from orderflow_runtime.kafka import EventProducer, Record
from orderflow_schemas import ActionRequest, HttpEffect


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), net.free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@asynccontextmanager
async def http_server(app: web.Application) -> AsyncIterator[int]:
    """``app`` served on a free local port, which it yields, until the block ends."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture(loop_scope="module")
async def hook() -> AsyncIterator[tuple[list[tuple[float, str]], int]]:
    """A receiver answering 200 at ``http://127.0.0.1:<port>/hook``: each call's arrival time
    and Idempotency-Key, and the port."""
    calls: list[tuple[float, str]] = []

    async def handle(request: web.Request) -> web.Response:
        calls.append((time.monotonic(), request.headers.get("Idempotency-Key", "")))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", handle)
    async with http_server(app) as port:
        yield calls, port


def local_settings(kafka_bootstrap: str, database_url: str, name: str,
                   **more: Any) -> ExecutorSettings:
    """An executor on topics of its own (prefixed ``name`` and a random part) that may call
    this machine only."""
    return ExecutorSettings(
        kafka_bootstrap=kafka_bootstrap, database_url=database_url,
        topic_prefix=f"{name}{uuid.uuid4().hex[:8]}.", allowed_hosts="127.0.0.1",
        egress="allow-list-only", **more)


def hook_request(port: int, order: str, firing: str, trigger_name: str) -> ActionRequest:
    """A request to call the ``hook`` receiver on ``port``."""
    return ActionRequest(
        external_order_id=order, trigger_id="t-1", trigger_name=trigger_name, firing_id=firing,
        event_id=str(uuid.uuid4()),
        effect=HttpEffect(url=f"http://127.0.0.1:{port}/hook", expected_status=[200]))


def record_of(request: ActionRequest, offset: int = 0) -> Record:
    """``request`` as the intake reads it off the topic."""
    return Record(topic="t", partition=0, offset=offset,
                  key=request.external_order_id.encode(), value=request.to_wire(), headers={})


@asynccontextmanager
async def serving(settings: ExecutorSettings,
                  key: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, EventProducer]]:
    """The executor running in this process (its lifespan: consumers, worker, outbox relay),
    an HTTP client of its API with ``key``, and a producer on its topics."""
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        producer = EventProducer(settings.kafka_bootstrap, settings.topic_prefix)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://executor",
                                     headers={"Authorization": f"Bearer {key}"}) as api:
            yield app, api, producer
        await producer.close()
