"""The whole path as a user sees it: an order sent over HTTP until its webhook arrives.

One trigger (``orderDELIVERED``, ``order.totalCost gt 500``, call URL to a local sink) and two
loads, half of the orders qualifying:

(a) ``--single`` orders, one per request, from ``--clients`` concurrent clients;
(b) ``--bulk`` orders in requests of 1000.

For each it prints accepted requests/s and orders/s, webhooks/s (qualifying orders delivered /
time from the first send to the last delivery), latency from request sent to webhook received
(p50 / p99 / max), duplicates and missing at the sink, and the CPU seconds that the orderflow
processes, the broker and PostgreSQL used per order. Before the load it measures the idle
platform's CPU; next to the figures, a raw confluent-kafka produce/consume of the same messages
in the same run.

The platform is started as ``make run`` starts it (Tansu, a fresh database, the four services
as processes), or ``--use-running`` takes the one at the default ports with ``--api-key``::

    .venv/bin/python bench/pipeline_bench.py [--single 5000] [--clients 32] [--bulk 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import stages
from aiohttp import web
from confluent_kafka import Consumer, Producer
from loading import produce_all
from orderflow_devstack import broker as broker_mod
from orderflow_devstack import database, launcher, net
from proc import cpu_seconds

KEY = "bench-key"
HOST = "127.0.0.1"


# --- the sink: its own process, so that the load generator does not slow what it measures ---

def _sink(port: int, ready: Any) -> None:
    seen: list[tuple[str, float, str]] = []

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        seen.append((request.match_info["order"], time.time(),
                     request.headers.get("webhook-id") or request.headers.get(
                         "Idempotency-Key", "")))
        return web.Response(status=200)

    async def results(_request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(seen), content_type="application/json")

    async def reset(_request: web.Request) -> web.Response:
        seen.clear()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook/{order}", hook)
    app.router.add_get("/_results", results)
    app.router.add_post("/_reset", reset)
    ready.set()
    web.run_app(app, host=HOST, port=port, access_log=None, print=None)


# --- CPU accounting from /proc ---

def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return pids


class CpuMeter:
    """CPU seconds of the services (and their workers), the broker and PostgreSQL; and of the
    harness (this load generator and the sink), which shares the same two cores."""

    def __init__(self, service_pids: dict[str, int], broker_pid: int | None,
                 harness_pids: list[int]) -> None:
        self.service_pids, self.broker_pid = service_pids, broker_pid
        self.harness_pids = harness_pids

    def sample(self) -> dict[str, float]:
        each = {name: sum(cpu_seconds(p) for p in _descendants(root))
                for name, root in self.service_pids.items()}
        services = sum(each.values())
        broker = cpu_seconds(self.broker_pid) if self.broker_pid else 0.0
        postgres = sum(cpu_seconds(p) for p in _postgres_pids())
        harness = sum(cpu_seconds(p) for p in self.harness_pids)
        return {"orderflow": services, "broker": broker, "postgres": postgres,
                "harness": harness, **{f"service:{name}": cpu for name, cpu in each.items()}}


def _delta(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: b[k] - a[k] for k in a}


# --- the load ---

def make_order(run: str, n: int, qualifying: bool) -> dict[str, Any]:
    return {"externalOrderId": f"{run}-{n}", "externalCustomerId": f"cust-{n % 500}",
            "totalCost": 1000 if qualifying else 100, "status": "DELIVERED",
            "date": "2026-11-23T09:30:00+00:00", "email": f"c{n % 500}@example.com",
            "currency": "EUR", "deliveryMethod": "courier"}


async def send_single(session: aiohttp.ClientSession, ingest: str, orders: list[dict[str, Any]],
                      clients: int, sent: dict[str, float]) -> float:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for o in orders:
        queue.put_nowait(o)

    async def client() -> None:
        while not queue.empty():
            o = queue.get_nowait()
            body = orjson.dumps({"orders": [o]})
            sent[o["externalOrderId"]] = time.time()
            async with session.post(f"{ingest}/api/v1/orders", data=body) as answer:
                if answer.status != 200:
                    raise RuntimeError(f"ingest answered {answer.status}: {await answer.text()}")
                await answer.read()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - start


async def send_bulk(session: aiohttp.ClientSession, ingest: str, orders: list[dict[str, Any]],
                    sent: dict[str, float]) -> float:
    start = time.perf_counter()
    for i in range(0, len(orders), 1000):
        chunk = orders[i:i + 1000]
        body = orjson.dumps({"orders": chunk})
        now = time.time()
        for o in chunk:
            sent[o["externalOrderId"]] = now
        async with session.post(f"{ingest}/api/v1/orders", data=body) as answer:
            if answer.status != 200:
                raise RuntimeError(f"ingest answered {answer.status}: {await answer.text()}")
            await answer.read()
    return time.perf_counter() - start


async def wait_sink(session: aiohttp.ClientSession, sink: str, expected: set[str],
                    timeout: float, settle: float = 2.0) -> list[tuple[str, float, str]]:
    deadline = time.monotonic() + timeout
    quiet_since = None
    while True:
        async with session.get(f"{sink}/_results") as answer:
            seen = [tuple(x) for x in orjson.loads(await answer.read())]
        got = {s[0] for s in seen} & expected
        if got == expected:
            if quiet_since is None:
                quiet_since = time.monotonic()
            if time.monotonic() - quiet_since >= settle:  # a late duplicate would come by now
                return seen  # type: ignore[return-value]
        if time.monotonic() > deadline:
            return seen  # type: ignore[return-value]
        await asyncio.sleep(0.2 if settle else 0.02)


async def after_idle(session: aiohttp.ClientSession, ingest: str, sink: str,
                     times: int = 3, gap: float = 5.0) -> list[float]:
    """Latency of one order sent to an idle platform (``gap`` s after the last), ``times``
    times: what resting consumers (ORDERFLOW_KAFKA_IDLE_AFTER_S) cost the first order."""
    out = []
    for n in range(times):
        await asyncio.sleep(gap)
        await session.post(f"{sink}/_reset")
        order = make_order(f"idle{uuid.uuid4().hex[:6]}", n, True)
        sent = time.time()
        async with session.post(f"{ingest}/api/v1/orders",
                                data=orjson.dumps({"orders": [order]})) as answer:
            await answer.read()
        seen = await wait_sink(session, sink, {order["externalOrderId"]}, 30, settle=0)
        out.append((seen[0][1] - sent) * 1000 if seen else float("nan"))
    return out


def first_arrivals(seen: list[tuple[str, float, str]]) -> dict[str, float]:
    """When each order's first webhook reached the sink."""
    first: dict[str, float] = {}
    for order, at, _ in seen:
        first.setdefault(order, at)
    return first


def report(label: str, orders: int, requests: int, seconds: float, sent: dict[str, float],
           expected: set[str], seen: list[tuple[str, float, str]], cpu: dict[str, float],
           answered_at: float) -> None:
    counts = Counter(s[0] for s in seen if s[0] in expected)
    first = first_arrivals(seen)
    ids = Counter(s[2] for s in seen if s[0] in expected and s[2])
    latencies = sorted((first[o] - sent[o]) * 1000 for o in expected if o in first)
    delivered = len(latencies)
    last = max((first[o] for o in expected if o in first), default=time.time())
    span = last - min(sent.values())
    cpu_total = cpu["orderflow"] + cpu["broker"] + cpu["postgres"]
    print(f"\n== {label}")
    print(f"accepted        : {requests / seconds:8,.0f} requests/s, {orders / seconds:8,.0f} "
          f"orders/s ({orders} orders in {seconds:.2f} s)")
    print(f"webhooks        : {delivered / span if span > 0 else 0:8,.0f} /s ({delivered} of "
          f"{len(expected)} qualifying, first send to last delivery {span:.2f} s)")
    if latencies:
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"latency         : p50 {statistics.median(latencies):.0f} ms, p99 {p99:.0f} ms, "
              f"max {latencies[-1]:.0f} ms (request sent -> webhook received)")
    print(f"last webhook    : {last - answered_at:+.2f} s after the last request was answered")
    print(f"duplicates      : {sum(c - 1 for c in counts.values())} by order, "
          f"{sum(c - 1 for c in ids.values())} by webhook-id; missing: "
          f"{len(expected - set(counts))}")
    print(f"CPU per order   : {cpu_total / orders * 1000:.2f} ms (orderflow "
          f"{cpu['orderflow'] / orders * 1000:.2f}, broker {cpu['broker'] / orders * 1000:.2f}, "
          f"postgres {cpu['postgres'] / orders * 1000:.2f}); the harness (load generator and "
          f"sink) {cpu['harness'] / orders * 1000:.2f} more")
    if each := {k.removeprefix("service:"): v for k, v in cpu.items() if k.startswith("service:")}:
        print("  by service    : " + ", ".join(
            f"{name} {seconds / orders * 1000:.2f}" for name, seconds in each.items()))


def raw_baseline(bootstrap: str, payloads: list[bytes]) -> None:
    """The same messages produced and consumed back by confluent-kafka: the floor."""
    topic = f"bench-raw-{uuid.uuid4().hex[:6]}"
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                         "acks": "all", "linger.ms": 5})
    producer.produce(topic, value=b"{}")
    producer.flush(30)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": topic,
                         "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
    consumer.subscribe([topic])
    got = 0
    while got < 1:  # joined and caught up with the warm-up message
        got += len(consumer.consume(100, 1.0))
    start = time.perf_counter()
    produce_all(producer, topic, ((None, value) for value in payloads))
    produced = time.perf_counter() - start
    got = 0
    while got < len(payloads):
        got += len([m for m in consumer.consume(1000, 0.05) if not m.error()])
    both = time.perf_counter() - start
    consumer.close()
    print(f"\n== raw confluent-kafka baseline ({len(payloads)} of the same order messages)")
    print(f"produce         : {len(payloads) / produced:8,.0f} msgs/s")
    print(f"produce+consume : {len(payloads) / both:8,.0f} msgs/s")


def start_platform(tmp: Path) -> tuple[dict[str, str], Any, list[launcher.RunningService], str]:
    broker = broker_mod.start_tansu(log_path=tmp / "broker.log")
    server = database.pick_server(tmp / "pgdata")
    dsn = database.create_database(server, f"orderflow_pipe_{os.getpid()}")
    env = {**broker_mod.TANSU_SETTINGS, **os.environ, "ORDERFLOW_KAFKA_BOOTSTRAP": broker.bootstrap,
           "ORDERFLOW_DATABASE_URL": dsn, "ORDERFLOW_API_KEYS": KEY,
           "ORDERFLOW_ALLOWED_HOSTS": "127.0.0.1,localhost", "ORDERFLOW_LOG_LEVEL": "WARNING"}
    ports = {s.name: net.free_port() for s in launcher.SERVICES}
    services = launcher.start_services(launcher.SERVICES, env, ports, tmp, timeout=120)
    urls = {s.spec.name: s.url for s in services}
    return urls, (broker, server, dsn), services, broker.bootstrap


async def run(args: argparse.Namespace, urls: dict[str, str], meter: CpuMeter,
              bootstrap: str, sink_port: int) -> None:
    sink = f"http://{HOST}:{sink_port}"
    headers = {"Authorization": f"Bearer {args.api_key}", "Content-Type": "application/json"}
    conn = aiohttp.TCPConnector(limit=args.clients + 4)
    async with aiohttp.ClientSession(headers=headers, connector=conn) as session:
        async with session.post(f"{urls['trigger-engine']}/api/v1/triggers", data=orjson.dumps({
            "name": "pipeline bench", "enabled": True, "event": "orderDELIVERED",
            "conditions": [{"field": "order.totalCost", "op": "gt", "value": 500}],
            "delay": "PT0S", "schedule": {"mode": "continuous"},
            "effects": [{"type": "http", "method": "POST",
                         "url": f"{sink}/hook/{{id_order}}", "expectedStatus": [200]}]}),
        ) as answer:
            if answer.status != 201:
                raise RuntimeError(f"trigger not created: {answer.status} {await answer.text()}")
        await asyncio.sleep(3)  # the trigger reaches every worker

        before = meter.sample()
        await asyncio.sleep(args.idle)
        idle = _delta(before, meter.sample())
        idle = {k: idle[k] for k in ("orderflow", "broker", "postgres")}
        print(f"idle platform   : {sum(idle.values()) / args.idle * 100:.1f}% of a core "
              f"(orderflow {idle['orderflow'] / args.idle * 100:.1f}%, broker "
              f"{idle['broker'] / args.idle * 100:.1f}%, postgres "
              f"{idle['postgres'] / args.idle * 100:.1f}%) over {args.idle:.0f} s")
        woken = await after_idle(session, urls["ingest"], sink)
        print(f"after idle      : one order 5 s after the last, request sent -> webhook "
              f"received: {', '.join(f'{ms:.0f}' for ms in woken)} ms")

        for label, count, single in (
                (f"(a) {args.single} orders, one per request, {args.clients} clients",
                 args.single, True),
                (f"(b) {args.bulk} orders in requests of 1000", args.bulk, False)):
            if not count:
                continue
            run_id = uuid.uuid4().hex[:6]
            orders = [make_order(run_id, n, n % 2 == 0) for n in range(count)]
            expected = {o["externalOrderId"] for o in orders if o["totalCost"] > 500}
            sent: dict[str, float] = {}
            await session.post(f"{sink}/_reset")
            before = meter.sample()
            if single:
                seconds = await send_single(session, urls["ingest"], orders, args.clients, sent)
                requests = count
            else:
                seconds = await send_bulk(session, urls["ingest"], orders, sent)
                requests = (count + 999) // 1000
            answered_at = time.time()
            seen = await wait_sink(session, sink, expected, args.timeout)
            cpu = _delta(before, meter.sample())
            report(label, count, requests, seconds, sent, expected, seen, cpu, answered_at)
            await asyncio.to_thread(stages.report, bootstrap, sent, first_arrivals(seen))

    payloads = [orjson.dumps(make_order("raw", n, True)) for n in range(args.single or 5000)]
    raw_baseline(bootstrap, payloads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=5000, help="orders sent one per request")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients for (a)")
    parser.add_argument("--bulk", type=int, default=10000, help="orders sent 1000 per request")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle measurement")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds to wait for the webhooks of one load")
    parser.add_argument("--use-running", action="store_true",
                        help="use the platform at the default ports (make run)")
    parser.add_argument("--api-key", default=KEY, help="API key of --use-running")
    args = parser.parse_args()

    sink_port = net.free_port()
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(sink_port, ready), daemon=True)
    sink.start()
    ready.wait(10)
    tmp = Path(tempfile.mkdtemp(prefix="orderflow-pipeline-"))
    started: tuple[Any, Any, str] | None = None
    services: list[launcher.RunningService] = []
    try:
        if args.use_running:
            urls = {s.name: f"http://{HOST}:{s.port}" for s in launcher.SERVICES}
            bootstrap = os.environ.get("ORDERFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
            meter = CpuMeter({}, None, [os.getpid(), sink.pid or 0])
        else:
            args.api_key = KEY
            urls, started, services, bootstrap = start_platform(tmp)
            meter = CpuMeter({s.spec.name: s.process.pid for s in services},
                             started[0].process.pid if started[0].process else None,
                             [os.getpid(), sink.pid or 0])
        print(f"platform: {', '.join(f'{k} {v}' for k, v in urls.items())}; "
              f"load average {os.getloadavg()[0]:.1f}; logs {tmp}")
        asyncio.run(run(args, urls, meter, bootstrap, sink_port))
    finally:
        launcher.stop_all(services)
        if started is not None:
            broker, server, dsn = started
            broker.stop()
            database.drop_database(server, dsn.rsplit("/", 1)[1])
            server.stop()
        sink.terminate()


if __name__ == "__main__":
    main()
