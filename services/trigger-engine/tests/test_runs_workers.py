"""Waiting runs across worker processes: two trigger-engine workers share the events (a second
one joins while they flow: a rebalance) and the due runs; one is killed with SIGKILL while runs
are coming due and is started again. Every run performs each of its steps once: nothing lost,
nothing twice (message ids are derived from trigger, event and step, so a copy of a message is
recognised; what matters is one distinct firing per order and step)."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Producer
from orderflow_devstack import database, launcher, net, procs
from orderflow_devstack.pytest_plugin import TEST_API_KEY, service_variables
from orderflow_schemas import TriggerFiring, decode
from orderflow_schemas.topics import ORDER_EVENTS, TRIGGER_FIRINGS

from .conftest import Outputs, eventually
from .test_engine_integration import HOOK, event

ORDERS = 300
HEADERS = {"Authorization": f"Bearer {TEST_API_KEY}"}


class Worker:
    def __init__(self, env: dict[str, str], log_dir: Path, name: str) -> None:
        self.port = net.free_port()
        self.env = {**env, "ORDERFLOW_HTTP_PORT": str(self.port)}
        self.log = log_dir / f"{name}.log"
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        script = launcher.script_path("orderflow-trigger-engine")
        assert script is not None, "run make venv"
        self.proc = procs.spawn([str(script)], self.env, self.log)
        eventually(lambda: launcher.healthy(self.url), timeout=60)

    def kill_9(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def steps_done(self) -> float:
        """Run steps this process decided, from its metrics."""
        text = httpx.get(f"{self.url}/metrics", timeout=5, follow_redirects=True).text
        return sum(float(v) for v in re.findall(
            r'^orderflow_trigger_run_steps_total\{[^}]*\} (\S+)$', text, re.M))

    def stop(self) -> None:
        if self.proc is not None:
            procs.stop(self.proc)


@pytest.fixture
def workers(kafka_bootstrap: str, database_url: str,
            tmp_path: Path) -> Iterator[tuple[Worker, Worker, dict[str, str]]]:
    server = database.Server(database_url)
    name = f"orderflow_runs_{secrets.token_hex(4)}"
    dsn = database.create_database(server, name)
    prefix = f"w{secrets.token_hex(4)}."
    env = {**os.environ, **service_variables(kafka_bootstrap, dsn, prefix),
           "ORDERFLOW_SCHEDULER_POLL_SECONDS": "0.1", "ORDERFLOW_SCHEDULER_BATCH_SIZE": "20",
           "ORDERFLOW_TRIGGER_BATCH_SIZE": "50"}
    a, b = Worker(env, tmp_path, "a"), Worker(env, tmp_path, "b")
    try:
        yield a, b, env
    finally:
        a.stop()
        b.stop()
        database.drop_database(server, name)


def test_two_workers_share_runs_and_a_kill_9_loses_none_and_doubles_none(
        workers: tuple[Worker, Worker, dict[str, str]], kafka_bootstrap: str) -> None:
    a, b, env = workers
    prefix = env["ORDERFLOW_TOPIC_PREFIX"]
    a.start()
    made = httpx.post(f"{a.url}/api/v1/triggers", headers=HEADERS, timeout=10, json={
        "name": "delayed workflow", "event": "orderDELIVERED", "delay": "PT4S",
        # The second step comes due well after A is back (a process start takes seconds on a
        # busy machine): with it 2 s after the first, B had done every step by then.
        "effects": HOOK, "steps": [{"after": "PT6S", "effects": HOOK}]})
    assert made.status_code == 201, made.text
    outputs = Outputs(kafka_bootstrap, prefix)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True})
    ids = [f"k9-{i}" for i in range(ORDERS)]
    try:
        for i, oid in enumerate(ids):
            producer.produce(ORDER_EVENTS.qualified(prefix), event(oid, sequence=1).to_wire(),
                             key=oid)
            if i == ORDERS // 3:
                producer.flush()
                b.start()  # joins the group while events flow: a rebalance
        producer.flush()
        # Every run is waiting or under way: kill A as they come due, start it again.
        time.sleep(4)
        a.kill_9()
        a.start()

        def steps() -> dict[tuple[str, int], set[str]]:
            seen: dict[tuple[str, int], set[str]] = defaultdict(set)
            for topic, _, value in list(outputs.messages):
                if topic == TRIGGER_FIRINGS.name:
                    f = decode(TriggerFiring, value)
                    seen[(f.external_order_id, f.step)].add(f.id)
            return seen

        done = eventually(lambda: len(s := steps()) == 2 * ORDERS and s, timeout=120)
        time.sleep(2)  # anything doubled would have come by now
        done = steps()
        assert sorted(done) == sorted((oid, step) for oid in ids for step in (0, 1))
        assert all(len(firing_ids) == 1 for firing_ids in done.values())
        # Both workers performed due steps (A since its restart, B throughout).
        assert b.steps_done() > 0 and a.steps_done() > 0
    finally:
        outputs.close()
