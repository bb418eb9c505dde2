"""The executor killed with SIGKILL mid-delivery and started again: every request is delivered
and recorded as succeeded once. A receiver may see a request a second time only if it had
reached the receiver before the kill without its attempt being recorded (in flight: the one
unavoidable repeat), and then with the same ``webhook-id``, so that it can drop it; every
request sent after the kill reaches it once."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from orderflow_devstack import database, launcher, net, procs
from orderflow_devstack.pytest_plugin import service_variables
from orderflow_devstack.topics import read_all
from orderflow_runtime.kafka import EventProducer
from orderflow_schemas import ActionRequest, ActionResult, HttpEffect, decode
from orderflow_schemas.topics import ACTION_REQUESTS, ACTION_RESULTS

from .conftest import http_server

pytestmark = pytest.mark.asyncio(loop_scope="module")
REQUESTS = 120


class Receiver:
    """Answers each call after ``delay`` seconds: deliveries are in flight when the kill comes."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.ids: list[str] = []
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.ids.append(request.headers["webhook-id"])
        await asyncio.sleep(self.delay)
        return web.Response(status=200)


@pytest_asyncio.fixture(loop_scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver(delay=0.5)
    app = web.Application()
    app.router.add_post("/hook", r.handle)
    async with http_server(app) as r.port:
        yield r


@pytest.fixture
def env(kafka_bootstrap: str, database_url: str) -> Iterator[dict[str, str]]:
    server = database.Server(database_url)
    name = f"orderflow_kill_{secrets.token_hex(4)}"
    dsn = database.create_database(server, name)
    prefix = f"k{secrets.token_hex(4)}."
    try:
        yield {**os.environ, **service_variables(kafka_bootstrap, dsn, prefix),
               "ORDERFLOW_HTTP_PORT": str(net.free_port()), "ORDERFLOW_CONCURRENCY": "16",
               "ORDERFLOW_RETRY_SCHEDULE": "1,1,1", "ORDERFLOW_LEASE_GRACE_SECONDS": "3"}
    finally:
        database.drop_database(server, name)


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    script = launcher.script_path("orderflow-action-executor")
    assert script is not None, "run make venv"
    proc = procs.spawn([str(script)], env, log)
    url = f"http://127.0.0.1:{env['ORDERFLOW_HTTP_PORT']}"
    deadline = time.monotonic() + 60
    while not launcher.healthy(url):
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the executor never became healthy"
        time.sleep(0.2)
    return proc


async def test_kill_9_mid_delivery_loses_nothing_and_repeats_only_in_flight_ones(
        env: dict[str, str], receiver: Receiver, kafka_bootstrap: str, tmp_path: Path) -> None:
    log = tmp_path / "executor.log"
    proc = start(env, log)
    prefix = env["ORDERFLOW_TOPIC_PREFIX"]
    producer = EventProducer(kafka_bootstrap, prefix)
    requests = [ActionRequest(
        external_order_id=f"o-{n}", trigger_id="t-kill", trigger_name="kill", firing_id="f",
        event_id=str(uuid.uuid4()), effect=HttpEffect(
            url=f"http://127.0.0.1:{receiver.port}/hook", expected_status=[200],
            timeout_seconds=2.0))  # the receiver answers in 0.5 s; the lease is 2 + 3 s
        for n in range(REQUESTS)]
    try:
        for request in requests:
            await producer.send(ACTION_REQUESTS, request.external_order_id, request)
        await producer.flush()
        deadline = time.monotonic() + 60
        while len(receiver.ids) < REQUESTS // 4:  # a quarter delivered, 16 more in flight
            assert time.monotonic() < deadline, "deliveries never started"
            await asyncio.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        reached_before_kill = set(receiver.ids)
        proc = start(env, log)

        results = await read_all(kafka_bootstrap, ACTION_RESULTS, prefix, lambda v: len(
            {decode(ActionResult, r).request_id for r in v
             if decode(ActionResult, r).outcome == "succeeded"}) >= REQUESTS, timeout=90)
        await asyncio.sleep(2)  # room for a wrong late delivery
    finally:
        procs.stop(proc)
        await producer.close()

    # By message id: a result the broker had taken when the kill came, before its outbox row
    # was deleted, is published again on restart, the same message, which readers drop as
    # such. Two records of success would be two messages.
    by_id = {m.id: m for m in (decode(ActionResult, r) for r in results)}
    succeeded = Counter(m.request_id for m in by_id.values() if m.outcome == "succeeded")
    assert set(succeeded) == {r.id for r in requests}
    assert max(succeeded.values()) == 1, "a request was recorded as succeeded twice"
    received = Counter(receiver.ids)
    assert set(received) == {r.id for r in requests}, "a request never reached the receiver"
    repeated = {i for i, n in received.items() if n > 1}
    assert repeated <= reached_before_kill, "a request not in flight at the kill came twice"
    assert max(received.values()) <= 2


