"""Webhooks as Standard Webhooks define them, endpoints, and what the executor does with their
answers (Retry-After, 3xx, 410 Gone), dead requests and their re-drive: the executor on the real
broker and database, its HTTP API in-process, deliveries to a real local HTTP server whose
signatures are checked with the reference ``standardwebhooks`` library."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from orderflow_action_executor.config import ExecutorSettings
from orderflow_runtime.kafka import EventProducer
from orderflow_schemas import ActionRequest, HttpEffect
from orderflow_schemas.topics import ACTION_REQUESTS
from standardwebhooks.webhooks import Webhook

from .conftest import http_server, serving

pytestmark = pytest.mark.asyncio(loop_scope="module")
KEY = "exec-key"


class Receiver:
    """A local server: each path answers the statuses it is given, in turn (the last one
    repeats), and keeps what it received."""

    def __init__(self) -> None:
        self.answers: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.got: dict[str, list[tuple[dict[str, str], bytes, float]]] = {}
        self.hanging: set[str] = set()  # paths that do not answer until ``release``
        self.release = asyncio.Event()
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        calls = self.got.setdefault(name, [])
        calls.append((dict(request.headers), await request.read(), time.monotonic()))
        if name in self.hanging:
            await self.release.wait()
        plan = self.answers.get(name, [(200, {})])
        status, headers = plan[min(len(calls), len(plan)) - 1]
        return web.Response(status=status, headers=headers)

    async def calls(self, name: str, count: int, timeout: float = 20) -> list[Any]:
        deadline = time.monotonic() + timeout
        while len(self.got.get(name, [])) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} call(s) to {name} never came: {self.got}")
            await asyncio.sleep(0.05)
        return self.got[name]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{name}", r.handle)
    async with http_server(app) as r.port:
        yield r
        r.release.set()


class Executor:
    def __init__(self, api: httpx.AsyncClient, producer: EventProducer) -> None:
        self.api = api
        self.producer = producer

    async def send(self, url: str, **effect: Any) -> ActionRequest:
        request = ActionRequest(
            external_order_id=f"o-{uuid.uuid4().hex[:6]}", trigger_id="t-1", trigger_name="hook",
            firing_id="f-1", event_id=str(uuid.uuid4()),
            effect=HttpEffect(url=url, **effect), order={"totalCost": 10})
        await self.producer.send(ACTION_REQUESTS, request.external_order_id, request)
        return request


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def executor(kafka_bootstrap: str, database_url: str) -> AsyncIterator[Executor]:
    prefix = f"wh{uuid.uuid4().hex[:8]}."
    settings = ExecutorSettings(
        kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=prefix,
        api_keys=KEY, allowed_hosts="127.0.0.1,localhost", egress="allow-list-only",
        retry_schedule="0.3,0.3", retry_jitter=0, secret_rotation_grace=3600,
        endpoint_concurrency=2, breaker_threshold=4, breaker_cooldown=5)
    async with serving(settings, KEY) as (app, api, producer):
        await app.state.pool.execute("TRUNCATE endpoints")  # the session database is shared
        yield Executor(api, producer)


def verified(secret: str, call: tuple[dict[str, str], bytes, float]) -> Any:
    headers, body, _ = call
    return Webhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})


async def test_a_webhook_is_signed_for_its_endpoint_and_keeps_its_id_on_retries(
        executor: Executor, receiver: Receiver) -> None:
    base = f"http://127.0.0.1:{receiver.port}"
    answer = await executor.api.post("/api/v1/endpoints", json={"url": f"{base}/signed"})
    assert answer.status_code == 201, answer.text
    secret = answer.json()["secret"]
    assert secret.startswith("whsec_")
    receiver.answers["signed"] = [(503, {}), (200, {})]
    request = await executor.send(f"{base}/signed")
    first, second = await receiver.calls("signed", 2)
    assert verified(secret, first)["idOrder"] == request.external_order_id
    verified(secret, second)
    assert first[0]["webhook-id"] == second[0]["webhook-id"] == request.id
    assert first[0]["Idempotency-Key"] == request.id
    with pytest.raises(Exception, match="(?i)signature"):
        Webhook("whsec_" + "A" * 43 + "=").verify(first[1], {
            k.lower(): v for k, v in first[0].items()})


async def test_a_url_with_no_endpoint_gets_one_with_a_generated_secret(
        executor: Executor, receiver: Receiver) -> None:
    # Its origin is 127.0.0.1:<port>, which the test above registered with a longer URL only.
    request = await executor.send(f"http://localhost:{receiver.port}/auto")
    [call] = await receiver.calls("auto", 1)
    listed = (await executor.api.get("/api/v1/endpoints")).json()["endpoints"]
    [endpoint] = [e for e in listed if e["url"] == f"http://localhost:{receiver.port}"]
    secret = (await executor.api.get(f"/api/v1/endpoints/{endpoint['id']}/secret")).json()
    verified(secret["secret"], call)
    assert call[0]["webhook-id"] == request.id


async def test_during_a_rotation_both_secrets_sign(executor: Executor,
                                                   receiver: Receiver) -> None:
    base = f"http://127.0.0.1:{receiver.port}/rotating"
    old = (await executor.api.post("/api/v1/endpoints", json={"url": base})).json()
    new = (await executor.api.post(f"/api/v1/endpoints/{old['id']}/rotate-secret")).json()
    assert new["secret"] != old["secret"] and new["rotationEndsAt"]
    await executor.send(base)
    [call] = await receiver.calls("rotating", 1)
    assert len(call[0]["webhook-signature"].split(" ")) == 2
    verified(old["secret"], call)
    verified(new["secret"], call)


async def test_retry_after_sets_the_next_wait(executor: Executor, receiver: Receiver) -> None:
    receiver.answers["busy"] = [(429, {"Retry-After": "2"}), (200, {})]
    await executor.send(f"http://127.0.0.1:{receiver.port}/busy")
    first, second = await receiver.calls("busy", 2)
    assert second[2] - first[2] >= 1.9  # the schedule alone would have waited 0.3 s


async def test_a_redirect_is_a_failure_and_is_not_followed(
        executor: Executor, receiver: Receiver) -> None:
    target = f"http://127.0.0.1:{receiver.port}/elsewhere"
    receiver.answers["moved"] = [(302, {"Location": target})]
    request = await executor.send(f"http://127.0.0.1:{receiver.port}/moved")
    await receiver.calls("moved", 3)  # the first attempt and both retries
    dead = await _dead(executor, order=request.external_order_id)
    assert "answered 302" in dead["lastError"]
    assert "elsewhere" not in receiver.got


async def test_gone_disables_the_endpoint_and_later_requests_wait_until_it_is_enabled(
        executor: Executor, receiver: Receiver) -> None:
    base = f"http://127.0.0.1:{receiver.port}/gone"
    endpoint = (await executor.api.post("/api/v1/endpoints", json={"url": base})).json()
    receiver.answers["gone"] = [(410, {}), (200, {})]
    await executor.send(base)
    await receiver.calls("gone", 1)
    state = await _eventually(executor, endpoint["id"], lambda e: e["state"] == "disabled")
    assert "410" in state["disabledReason"]
    later = await executor.send(base)
    await asyncio.sleep(1.5)
    assert len(receiver.got["gone"]) == 1  # waiting, not attempted, not dead
    assert not (await executor.api.get("/api/v1/dead-requests", params={
        "order": later.external_order_id})).json()["deadRequests"]
    answer = await executor.api.post(f"/api/v1/endpoints/{endpoint['id']}/enable")
    assert answer.json()["state"] == "active"
    calls = await receiver.calls("gone", 3)  # the first request again, and the later one
    assert {c[0]["webhook-id"] for c in calls[1:]} == {calls[0][0]["webhook-id"], later.id}


async def test_a_dead_request_is_listed_and_redriven_with_its_webhook_id(
        executor: Executor, receiver: Receiver) -> None:
    receiver.answers["flaky"] = [(500, {}), (500, {}), (500, {}), (200, {})]
    base = f"http://127.0.0.1:{receiver.port}/flaky"
    await executor.api.post("/api/v1/endpoints", json={"url": base})  # a breaker of its own
    request = await executor.send(base)
    dead = await _dead(executor, order=request.external_order_id)
    assert dead["requestId"] == request.id and dead["attempts"] == 3
    assert "answered 500" in dead["lastError"]
    assert dead["endpointId"]
    by_endpoint = (await executor.api.get("/api/v1/dead-requests", params={
        "endpoint": dead["endpointId"]})).json()["deadRequests"]
    assert request.id in {d["requestId"] for d in by_endpoint}
    answer = await executor.api.post(f"/api/v1/dead-requests/{request.id}/redrive")
    assert answer.status_code == 202 and answer.json()["redriven"] == [request.id]
    calls = await receiver.calls("flaky", 4)
    assert calls[3][0]["webhook-id"] == request.id
    assert (await executor.api.post(
        f"/api/v1/dead-requests/{request.id}/redrive")).status_code == 404  # delivered now


async def test_a_dead_endpoint_never_delays_a_healthy_one_and_its_breaker_opens(
        executor: Executor, receiver: Receiver) -> None:
    base = f"http://127.0.0.1:{receiver.port}"
    dead = (await executor.api.post("/api/v1/endpoints", json={"url": f"{base}/hang"})).json()
    await executor.api.post("/api/v1/endpoints", json={"url": f"{base}/healthy"})
    receiver.hanging.add("hang")
    for _ in range(10):
        await executor.send(f"{base}/hang", timeout_seconds=1)
    await receiver.calls("hang", 2)  # its two slots (endpoint_concurrency) are taken; after
    # four failures (the first two time out at 1 s, the next two at 2 s) its breaker opens
    sent = time.monotonic()
    await executor.send(f"{base}/healthy")
    [call] = await receiver.calls("healthy", 1, timeout=5)
    assert call[2] - sent < 1.5, "the healthy endpoint waited for the dead one"
    assert len(receiver.got["hang"]) <= 2  # never more in flight than its limit
    await _eventually(executor, dead["id"], lambda e: e["breaker"] == "open")
    held = len(receiver.got["hang"])
    await asyncio.sleep(2)
    assert len(receiver.got["hang"]) == held  # open: its requests wait, none is sent
    # At most threshold + concurrency - 1: when the third failure frees a slot, a fifth request
    # may go out while the fourth is still in flight.
    assert held <= 5


async def test_an_endpoint_rate_limit_spaces_deliveries_and_loses_none(
        executor: Executor, receiver: Receiver) -> None:
    base = f"http://127.0.0.1:{receiver.port}"
    created = await executor.api.post("/api/v1/endpoints", json={"url": f"{base}/slow-crm",
                                                                 "ratePerSecond": 4})
    assert created.status_code == 201 and created.json()["ratePerSecond"] == 4
    for _ in range(12):
        await executor.send(f"{base}/slow-crm")
    calls = await receiver.calls("slow-crm", 12, timeout=30)
    times = sorted(c[2] for c in calls)
    # 4 at once (a second's worth), then 4 a second: the last 8 take at least ~2 s
    assert times[-1] - times[0] >= 1.6, times
    assert len({c[0]["webhook-id"] for c in calls}) == 12  # each once, none lost
    bad = await executor.api.put(f"/api/v1/endpoints/{created.json()['id']}",
                                 json={"url": f"{base}/slow-crm", "ratePerSecond": 0})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "ratePerSecond"


async def test_endpoint_input_is_checked(executor: Executor) -> None:
    bad = await executor.api.post("/api/v1/endpoints", json={"url": "ftp://x", "secret": "nope"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"url", "secret"}
    assert (await executor.api.get("/api/v1/endpoints/nope")).status_code == 404
    url = f"http://127.0.0.1:1/{uuid.uuid4().hex}"
    assert (await executor.api.post("/api/v1/endpoints", json={"url": url})).status_code == 201
    assert (await executor.api.post("/api/v1/endpoints", json={"url": url})).status_code == 409


async def _dead(executor: Executor, **filters: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = (await executor.api.get("/api/v1/dead-requests", params=filters)).json()
        if found["deadRequests"]:
            return found["deadRequests"][0]  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no dead request for {filters}")


async def _eventually(executor: Executor, endpoint_id: str, until: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        endpoint = (await executor.api.get(f"/api/v1/endpoints/{endpoint_id}")).json()
        if until(endpoint):
            return endpoint  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError(f"endpoint {endpoint_id} never got there")
