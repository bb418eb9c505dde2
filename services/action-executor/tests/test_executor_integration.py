"""The action-executor against a real broker, a real PostgreSQL and a real local HTTP server:
a request is performed once even when it arrives twice; a failing one is retried on schedule,
then dead-lettered; a refused address is not called at all."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from orderflow_action_executor.bootstrap import build_app
from orderflow_action_executor.config import ExecutorSettings
from orderflow_devstack.topics import read_all
from orderflow_runtime.kafka import EventProducer
from orderflow_schemas import (
    ActionRequest,
    ActionResult,
    DeadLetter,
    ExternalActionEffect,
    ExternalActionExecution,
    HttpEffect,
    decode,
)
from orderflow_schemas.topics import ACTION_REQUESTS, ACTION_RESULTS, DLQ, EXTERNAL_ACTIONS

from .conftest import http_server

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Hook:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.calls: list[web.Request] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append(request)
        status = self.statuses[min(len(self.calls), len(self.statuses)) - 1]
        return web.Response(status=status)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hook_server() -> AsyncIterator[tuple[dict[str, Hook], int]]:
    hooks: dict[str, Hook] = {}

    async def route(request: web.Request) -> web.Response:
        return await hooks[request.match_info["name"]].handle(request)

    app = web.Application()
    app.router.add_post("/{name}", route)
    async with http_server(app) as port:
        yield hooks, port


@pytest.fixture(scope="module")
def prefix() -> str:
    return f"exec{uuid.uuid4().hex[:8]}."


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def executor(kafka_bootstrap: str, database_url: str,
                   prefix: str) -> AsyncIterator[EventProducer]:
    settings = ExecutorSettings(
        kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=prefix,
        allowed_hosts="127.0.0.1", retry_schedule="0.2,0.2", retry_jitter=0, lease_seconds=1,
        egress="allow-list-only")
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        producer = EventProducer(kafka_bootstrap, prefix)
        yield producer
        await producer.close()


def request_to(url: str, order_id: str = "o-1") -> ActionRequest:
    return ActionRequest(external_order_id=order_id, trigger_id="t-1", trigger_name="hook",
                         firing_id="f-1", event_id=str(uuid.uuid4()),
                         effect=HttpEffect(url=url, expected_status=[200]))


async def test_a_request_sent_twice_is_performed_once(
        executor: EventProducer, hook_server: Any, kafka_bootstrap: str, prefix: str) -> None:
    hooks, port = hook_server
    hooks["ok"] = Hook([200])
    request = request_to(f"http://127.0.0.1:{port}/ok")
    await executor.send(ACTION_REQUESTS, request.external_order_id, request)
    await executor.send(ACTION_REQUESTS, request.external_order_id, request)
    results = await read_all(kafka_bootstrap, ACTION_RESULTS, prefix, lambda v: len(v) >= 1,
                             keep=lambda v: request.id.encode() in v)
    await asyncio.sleep(1.5)  # room for a wrong second attempt
    assert len(hooks["ok"].calls) == 1
    assert hooks["ok"].calls[0].headers["Idempotency-Key"] == request.id
    result = decode(ActionResult, results[0])
    assert (result.request_id, result.outcome, result.http_status) == (request.id, "succeeded", 200)


async def test_unexpected_status_is_retried_then_dead_lettered(
        executor: EventProducer, hook_server: Any, kafka_bootstrap: str, prefix: str) -> None:
    hooks, port = hook_server
    hooks["down"] = Hook([503])
    request = request_to(f"http://127.0.0.1:{port}/down")
    await executor.send(ACTION_REQUESTS, request.external_order_id, request)
    raw = await read_all(kafka_bootstrap, ACTION_RESULTS, prefix, lambda v: len(v) >= 3,
                         keep=lambda v: request.id.encode() in v)
    results = [decode(ActionResult, r) for r in raw]
    assert [(r.attempt, r.outcome) for r in results] == [(1, "failed"), (2, "failed"), (3, "dead")]
    assert "answered 503, expected 200" in results[0].detail
    assert len(hooks["down"].calls) == 3
    letters = await read_all(kafka_bootstrap, DLQ, prefix, lambda v: len(v) >= 1)
    letter = decode(DeadLetter, letters[0])
    assert decode(ActionRequest, letter.original_value).id == request.id
    assert "gave up after 3 attempts" in letter.reason


async def test_a_private_address_not_allowed_is_refused_without_a_call(
        executor: EventProducer, kafka_bootstrap: str, prefix: str) -> None:
    request = request_to("http://10.1.2.3:9/never")
    await executor.send(ACTION_REQUESTS, request.external_order_id, request)
    raw = await read_all(kafka_bootstrap, ACTION_RESULTS, prefix, lambda v: len(v) >= 1,
                         keep=lambda v: request.id.encode() in v)
    result = decode(ActionResult, raw[0])
    assert result.outcome == "dead" and "ORDERFLOW_ALLOWED_HOSTS" in result.detail


async def test_an_external_action_effect_is_published_once(
        executor: EventProducer, kafka_bootstrap: str, prefix: str) -> None:
    # Its claim had no lease (the lease came from timeoutSeconds, which only call URL has), so
    # it was claimed again at once: ten publications and ten "succeeded" results. The test's
    # lease_seconds is 1, so a second claim would come within the wait below.
    request = ActionRequest(
        external_order_id="o-ext", trigger_id="t-1", trigger_name="connector", firing_id="f-1",
        event_id=str(uuid.uuid4()), effect=ExternalActionEffect(action="reserve-stock"))
    await executor.send(ACTION_REQUESTS, request.external_order_id, request)
    await read_all(kafka_bootstrap, ACTION_RESULTS, prefix, lambda v: len(v) >= 1,
                   keep=lambda v: request.id.encode() in v)
    await asyncio.sleep(3)
    results = await read_all(kafka_bootstrap, ACTION_RESULTS, prefix, None,
                             keep=lambda v: request.id.encode() in v, timeout=3)
    published = await read_all(kafka_bootstrap, EXTERNAL_ACTIONS, prefix, None,
                               keep=lambda v: request.id.encode() in v, timeout=3)
    assert [decode(ActionResult, r).outcome for r in results] == ["succeeded"]
    [execution] = [decode(ExternalActionExecution, p) for p in published]
    assert (execution.action_id, execution.request_id) == ("reserve-stock", request.id)


@pytest.mark.parametrize("url", [
    "http://example.com/hook",  # public, but not listed: allow-list-only refuses it
    "http://localhost:9/hook",  # a name not listed that resolves to loopback
    "http://169.254.169.254/latest/meta-data",  # cloud metadata
])
async def test_allow_list_only_refuses_every_host_not_listed_without_a_call(
        executor: EventProducer, kafka_bootstrap: str, prefix: str, url: str) -> None:
    request = request_to(url)
    await executor.send(ACTION_REQUESTS, request.external_order_id, request)
    raw = await read_all(kafka_bootstrap, ACTION_RESULTS, prefix, lambda v: len(v) >= 1,
                         keep=lambda v: request.id.encode() in v)
    result = decode(ActionResult, raw[0])
    assert result.outcome == "dead" and "ORDERFLOW_ALLOWED_HOSTS" in result.detail
    assert result.http_status is None
