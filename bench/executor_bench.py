"""Action-executor throughput: call-URL requests on the action-requests topic until the webhooks
reach a local sink, with ``--concurrency`` effects in flight (``ORDERFLOW_CONCURRENCY``); then the
same with ``--dead-share`` of the requests aimed at an endpoint that never answers, to show how
much of their rate the healthy deliveries keep. Next to it, the raw consume rate of the same
topic with confluent-kafka, measured in the same run.

Starts a Tansu broker, a fresh database and ``orderflow-action-executor`` as a process::

    .venv/bin/python bench/executor_bench.py [--requests 10000] [--concurrency 200]
        [--endpoint-concurrency 64]

Each run starts once the executor has delivered a first request (its consumer has joined the
group). The rate is from the first delivery to the last; the rate from the first request
produced is printed too (the harness producing the requests takes about 0.5 s of it on this
machine). A webhook delivered twice (by ``webhook-id``) is counted once and reported.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import orjson
from confluent_kafka import Consumer, Producer
from loading import produce_all
from orderflow_action_executor.config import ExecutorSettings
from orderflow_devstack import broker as broker_mod
from orderflow_devstack import database, launcher, net
from orderflow_schemas import ActionRequest, HttpEffect
from orderflow_schemas.topics import ACTION_REQUESTS
from pipeline_bench import _sink

HOST = "127.0.0.1"


def _silent_server(port: int) -> None:
    """Accepts connections and never answers: the dead endpoint."""
    server = socket.create_server((HOST, port), backlog=1024)
    held = []
    while True:
        conn, _ = server.accept()
        held.append(conn)


def requests(n: int, sink: str, dead: str, dead_share: float) -> list[tuple[str, bytes]]:
    out = []
    every = int(1 / dead_share) if dead_share else 0
    for i in range(n):
        to_dead = every and i % every == every - 1
        url = f"{dead}/hook/{{id_order}}" if to_dead else f"{sink}/hook/{{id_order}}"
        r = ActionRequest(external_order_id=f"{'dead' if to_dead else 'ok'}-{i}",
                          trigger_id="bench", trigger_name="bench", firing_id=str(uuid.uuid4()),
                          event_id=str(uuid.uuid4()),
                          effect=HttpEffect(url=url, timeout_seconds=5))
        out.append((r.external_order_id, r.to_wire()))
    return out


def produce(bootstrap: str, topic: str, messages: list[tuple[str, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5,
                         "enable.idempotence": True})
    produce_all(producer, topic, messages)


def raw_consume(bootstrap: str, topic: str, count: int) -> float:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"raw-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
    consumer.subscribe([topic])
    got, start = 0, None
    while got < count:
        batch = [m for m in consumer.consume(1000, 0.5) if not m.error()]
        if batch and start is None:
            start = time.perf_counter()
        got += len(batch)
    consumer.close()
    return count / (time.perf_counter() - (start or time.perf_counter()))


async def delivered(sink: str, healthy: int, timeout: float) -> tuple[list[float], int]:
    """The times of the first delivery of each healthy request (by ``webhook-id``), and how
    many deliveries repeated one."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            async with http.get(f"{sink}/_results") as answer:
                seen = orjson.loads(await answer.read())
            first: dict[str, float] = {}
            ok = [(at, wid) for order, at, wid in seen if order.startswith("ok-")]
            for at, wid in ok:
                first[wid] = min(at, first.get(wid, at))
            if len(first) >= healthy or time.monotonic() > deadline:
                return sorted(first.values()), len(ok) - len(first)
            await asyncio.sleep(0.2)


def run_once(bootstrap: str, env: dict[str, str], tmp: Path, label: str, n: int,
             dead_share: float, sink: str, dead: str) -> None:
    prefix = f"xb{uuid.uuid4().hex[:6]}."
    port = net.free_port()
    spec = next(s for s in launcher.SERVICES if s.name == "action-executor")
    service_env = {**env, "ORDERFLOW_TOPIC_PREFIX": prefix}
    [svc] = launcher.start_services([spec], service_env, {spec.name: port}, tmp, timeout=60)
    try:
        # Warm up: the clock starts once the executor's consumer has joined its group and
        # delivered a request (joining takes seconds on the dev broker, whatever the load).
        asyncio.run(_reset(sink))
        produce(bootstrap, ACTION_REQUESTS.qualified(prefix), requests(1, sink, dead, 0))
        asyncio.run(delivered(sink, 1, 60))
        asyncio.run(_reset(sink))
        messages = requests(n, sink, dead, dead_share)
        healthy = sum(1 for k, _ in messages if k.startswith("ok-"))
        started = time.time()
        produce(bootstrap, ACTION_REQUESTS.qualified(prefix), messages)
        times, repeated = asyncio.run(delivered(sink, healthy, 300))
        span = (times[-1] - started) if times else float("nan")
        first = (times[0] - started) if times else float("nan")
        rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else float("nan")
        print(f"{label:<42}: {rate:8,.0f} deliveries/s from the first to the last "
              f"({len(times)} of {healthy} healthy; {repeated} repeated)")
        print(f"{'  from the first request produced':<42}: {len(times) / span:8,.0f} deliveries/s "
              f"(the first after {first:.2f} s, most of it the harness producing)")
        raw = raw_consume(bootstrap, ACTION_REQUESTS.qualified(prefix), n)
        print(f"{'  raw consume of the same topic':<42}: {raw:8,.0f} msgs/s")
    finally:
        launcher.stop_all([svc])


async def _reset(sink: str) -> None:
    async with aiohttp.ClientSession() as http:
        await http.post(f"{sink}/_reset")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=None,
                        help="effects in flight (ORDERFLOW_CONCURRENCY; the service's default, "
                             "200, when absent)")
    parser.add_argument("--dead-share", type=float, default=0.1)
    parser.add_argument("--endpoint-concurrency", type=int, default=None,
                        help="requests in flight per endpoint (ORDERFLOW_ENDPOINT_CONCURRENCY; "
                             "the service's default, 64, when absent)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="orderflow-executor-bench-"))
    sink_port, dead_port = net.free_port(), net.free_port()
    ready = multiprocessing.Event()
    procs = [multiprocessing.Process(target=_sink, args=(sink_port, ready), daemon=True),
             multiprocessing.Process(target=_silent_server, args=(dead_port,), daemon=True)]
    for p in procs:
        p.start()
    ready.wait(10)
    broker = broker_mod.start_tansu(log_path=tmp / "broker.log")
    server = database.pick_server(tmp / "pgdata")
    dsn = database.create_database(server, f"orderflow_xbench_{os.getpid()}")
    env = {**os.environ, "ORDERFLOW_KAFKA_BOOTSTRAP": broker.bootstrap,
           "ORDERFLOW_DATABASE_URL": dsn, "ORDERFLOW_API_KEYS": "bench",
           "ORDERFLOW_ALLOWED_HOSTS": HOST, "ORDERFLOW_LOG_LEVEL": "WARNING"}
    defaults = ExecutorSettings()
    concurrency = args.concurrency or defaults.concurrency
    per_endpoint = args.endpoint_concurrency or defaults.endpoint_concurrency
    env["ORDERFLOW_CONCURRENCY"] = str(concurrency)
    env["ORDERFLOW_ENDPOINT_CONCURRENCY"] = str(per_endpoint)
    sink, dead = f"http://{HOST}:{sink_port}", f"http://{HOST}:{dead_port}"
    print(f"{args.requests} requests, concurrency {concurrency} "
          f"({per_endpoint} per endpoint), load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    try:
        run_once(broker.bootstrap, env, tmp, "all healthy", args.requests, 0, sink, dead)
        run_once(broker.bootstrap, env, tmp, f"{args.dead_share:.0%} to an endpoint that hangs",
                 args.requests, args.dead_share, sink, dead)
    finally:
        broker.stop()
        database.drop_database(server, dsn.rsplit("/", 1)[1])
        server.stop()
        for p in procs:
            p.terminate()


if __name__ == "__main__":
    main()
