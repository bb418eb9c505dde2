"""Durable runs benchmark (issue 10): many pending delayed firings, a crowd of them coming due
at once, and a kill -9 of the worker holding them.

    .venv/bin/python bench/runs_bench.py [--pending 1000000] [--due 100000]

One trigger-engine worker runs as its own process (the service's console script), on a Tansu of
its own (or ``ORDERFLOW_KAFKA_BOOTSTRAP``) and the database ``orderflow_bench_runs``
(``ORDERFLOW_BENCH_DATABASE_URL``), which is created afresh.

1. ``pending - due`` orders are delivered with a trigger that waits a day: the time to schedule
   them (every event evaluated and its run written), the worker's RSS, the database's size.
2. ``due`` more orders are updated with a trigger whose delay makes them come due within the same
   10 seconds (a delay counts from the event's time, and the events' times are spread over 10 s):
   how late each firing reached the broker after its due time, p50 / p99 / max, and the due
   firings performed per second.
3. 1,000 runs are waiting when the worker is killed with SIGKILL; they come due while it is
   down; the time from starting it again to the first of them performed, and whether every one
   was performed once.

Baseline in the same run: the raw consume rate of the same topic (confluent-kafka, nothing done)."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from loading import ensure_database, produce_all
from orderflow_devstack import launcher, net, procs
from orderflow_runtime.kafka import ensure_topics, partitions_of
from orderflow_schemas import ALL_TOPICS, OrderEvent, TriggerFiring, decode
from orderflow_schemas.topics import ORDER_EVENTS, TRIGGER_FIRINGS
from proc import cpu_seconds

DSN = os.environ.get("ORDERFLOW_BENCH_DATABASE_URL",
                     "postgresql://postgres@127.0.0.1:5432/orderflow_bench_runs")
KEY = "bench-key"
HOOK = [{"type": "http", "method": "POST", "url": "http://127.0.0.1:9/{id_order}"}]


def event(oid: str, name: str, status: str, at: datetime) -> bytes:
    return OrderEvent(name=name, external_order_id=oid, status=status,  # type: ignore[arg-type]
                      previous_status="IN_PROGRESS", version_tag="v1", sequence=1,
                      occurred_at=at, order={"externalOrderId": oid, "status": status,
                                             "totalCost": 100}).to_wire()


def produce(bootstrap: str, topic: str, items: list[tuple[str, bytes]]) -> None:
    raw = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "enable.idempotence": True,
                    "compression.type": "lz4", "queue.buffering.max.messages": 1_000_000})
    produce_all(raw, topic, items, wait=0.05, flush_timeout=120)


class Firings:
    """When each firing reached the broker, read as it comes (the consumer's own clock)."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        topic = TRIGGER_FIRINGS.qualified(prefix)
        self.seen: dict[str, float] = {}  # firing id -> wall time first seen
        self.orders: dict[str, list[str]] = {}
        self.copies = 0
        self._consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-firings",
                                   "enable.auto.commit": False})
        self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING)
                               for p in partitions_of(self._consumer, topic)])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            for m in self._consumer.consume(1000, 0.1):
                if m.error():
                    continue
                now = time.time()
                f = decode(TriggerFiring, m.value())
                if f.id in self.seen:
                    self.copies += 1
                    continue
                self.seen[f.id] = now
                self.orders.setdefault(f.external_order_id, []).append(f.id)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._consumer.close()


def raw_consume_rate(bootstrap: str, topic: str, total: int) -> float:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"raw-{secrets.token_hex(3)}",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING)
                     for p in partitions_of(consumer, topic)])
    got, start = 0, time.monotonic()
    while got < total:
        got += sum(1 for m in consumer.consume(10_000, 1.0) if not m.error())
    rate = got / (time.monotonic() - start)
    consumer.close()
    return rate


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = net.free_port()
        self.env = {**env, "ORDERFLOW_HTTP_PORT": str(self.port)}
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: Any = None

    def start(self) -> None:
        self.proc = procs.spawn([str(launcher.script_path("orderflow-trigger-engine"))],
                                self.env, self.log)
        deadline = time.monotonic() + 120
        while not launcher.healthy(self.url):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit(f"the worker did not start: see {self.log}")
            time.sleep(0.2)

    def kill_9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def trigger(self, body: dict[str, Any]) -> str:
        answer = httpx.post(f"{self.url}/api/v1/triggers", json=body, timeout=10,
                            headers={"Authorization": f"Bearer {KEY}"})
        answer.raise_for_status()
        return answer.json()["id"]  # type: ignore[no-any-return]


async def count_runs(trigger_id: str, state: str | None = None) -> int:
    conn = await asyncpg.connect(DSN)
    try:
        return await conn.fetchval(  # type: ignore[no-any-return]
            "SELECT count(*) FROM triggers.runs WHERE trigger_id = $1 "
            "AND ($2::text IS NULL OR state = $2)", trigger_id, state)
    finally:
        await conn.close()


async def wait_runs(trigger_id: str, n: int, state: str | None = None,
                    timeout: float = 3600) -> float:
    start = time.monotonic()
    while await count_runs(trigger_id, state) < n:
        if time.monotonic() - start > timeout:
            raise SystemExit(f"only {await count_runs(trigger_id, state):,} of {n:,} runs")
        await asyncio.sleep(1.0)  # each count reads the trigger's runs: not too often
    return time.monotonic() - start


async def sizes() -> tuple[float, float]:
    conn = await asyncpg.connect(DSN)
    try:
        db = await conn.fetchval("SELECT pg_database_size(current_database())")
        runs = await conn.fetchval("SELECT pg_total_relation_size('triggers.runs')")
        return db / 2**20, runs / 2**20
    finally:
        await conn.close()


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=1000)[int(p * 10) - 1] if len(values) > 1 else \
        (values[0] if values else float("nan"))


async def run(args: argparse.Namespace, bootstrap: str) -> None:
    await ensure_database(DSN, fresh=True)
    prefix = f"runs{secrets.token_hex(3)}."
    ensure_topics(bootstrap, ALL_TOPICS, prefix)
    topic = ORDER_EVENTS.qualified(prefix)
    env = {**os.environ, "ORDERFLOW_KAFKA_BOOTSTRAP": bootstrap, "ORDERFLOW_DATABASE_URL": DSN,
           "ORDERFLOW_TOPIC_PREFIX": prefix, "ORDERFLOW_API_KEYS": KEY,
           "ORDERFLOW_KAFKA_SESSION_TIMEOUT_MS": "6000", "ORDERFLOW_LOG_LEVEL": "WARNING",
           "ORDERFLOW_SCHEDULER_BATCH_SIZE": str(args.scheduler_batch)}
    log_dir = Path(tempfile.mkdtemp(prefix="runs-bench-"))
    worker = Worker(env, log_dir / "worker.log")
    worker.start()
    firings = Firings(bootstrap, prefix)
    print(f"load: {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} cores; logs in {log_dir}")
    try:
        # 1. Pending for a day.
        later_n = args.pending - args.due
        later = worker.trigger({"name": "a day later", "event": "orderDELIVERED",
                                "delay": "P1D", "effects": HOOK})
        now = datetime.now(UTC)
        produce(bootstrap, topic, [(f"later-{i}", event(f"later-{i}", "orderDELIVERED",
                                                         "DELIVERED", now))
                                   for i in range(later_n)])
        took = await wait_runs(later, later_n)
        scheduling = later_n / took
        print(f"scheduled {later_n:,} delayed firings in {took:,.1f} s: "
              f"{later_n / took:,.0f} runs/s; worker RSS {rss_mib(worker.proc.pid):,.0f} MiB")

        # 2. A crowd coming due within the same 10 s, timed to begin once they are scheduled.
        lead = args.due / (later_n / took) * 1.5 + 15
        soon = worker.trigger({"name": "soon", "event": "orderUPDATED",
                               "delay": f"PT{int(lead)}S", "effects": HOOK})
        base = datetime.now(UTC)
        due_at = {f"soon-{i}": base + timedelta(seconds=10 * i / args.due + int(lead))
                  for i in range(args.due)}
        produce(bootstrap, topic, [(oid, event(oid, "orderUPDATED", "IN_PROGRESS",
                                              due - timedelta(seconds=int(lead))))
                                   for oid, due in due_at.items()])
        took = await wait_runs(soon, args.due)
        left = (min(due_at.values()) - datetime.now(UTC)).total_seconds()
        db_mib, runs_mib = await sizes()
        print(f"{args.pending:,} pending: {args.due:,} more scheduled in {took:,.1f} s "
              f"({left:,.0f} s before the first is due); worker RSS "
              f"{rss_mib(worker.proc.pid):,.0f} MiB; database {db_mib:,.0f} MiB "
              f"(runs table {runs_mib:,.0f} MiB)")
        # Waiting on the firings as they arrive: counting done runs in PostgreSQL every half
        # second would compete with the scheduler for the database it is measured on.
        await asyncio.sleep(max(0.0, left - 1))
        cpu = cpu_seconds(worker.proc.pid)
        deadline = time.monotonic() + 600
        while sum(oid in firings.orders for oid in due_at) < args.due:
            if time.monotonic() > deadline:
                raise SystemExit("the due firings did not all arrive")
            await asyncio.sleep(0.5)
        cpu = cpu_seconds(worker.proc.pid) - cpu
        time.sleep(1)
        late = [firings.seen[ids[0]] - due_at[oid].timestamp()
                for oid, ids in firings.orders.items() if oid in due_at]
        first = min(due_at.values()).timestamp()
        last = max(firings.seen[firings.orders[oid][0]] for oid in due_at)
        print(f"{len(late):,} due within 10 s: lateness p50 {pct(late, 50):.2f} s, "
              f"p99 {pct(late, 99):.2f} s, max {max(late):.2f} s; "
              f"{len(late) / (last - first):,.0f} due firings/s from the first due to the "
              f"last performed; the worker's CPU {cpu / args.due * 1e6:,.0f} µs per due firing")

        # 3. kill -9 with runs waiting; they come due while the worker is down.
        crash = worker.trigger({"name": "crash", "event": "orderCANCELLED",
                                "delay": "PT10S", "effects": HOOK})
        now = datetime.now(UTC)
        produce(bootstrap, topic, [(f"crash-{i}", event(f"crash-{i}", "orderCANCELLED",
                                                         "CANCELLED", now))
                                   for i in range(1000)])
        await wait_runs(crash, 1000)
        worker.kill_9()
        time.sleep(max(0.0, 11 - (datetime.now(UTC) - now).total_seconds()))
        restart = time.time()
        worker.start()
        await wait_runs(crash, 1000, "done", timeout=300)
        time.sleep(2)
        crashed = [oid for oid in firings.orders if oid.startswith("crash-")]
        first_after = min(firings.seen[firings.orders[oid][0]] for oid in crashed)
        print(f"kill -9 with 1,000 runs waiting, due while down: first performed "
              f"{first_after - restart:.1f} s after the restart began (process start "
              f"included); performed {len(crashed):,} of 1,000, twice: "
              f"{sum(len(firings.orders[o]) > 1 for o in crashed)}")
        rate = raw_consume_rate(bootstrap, topic, args.pending)
        print(f"baseline: raw consume of the same topic {rate:,.0f} events/s; "
              f"scheduling/raw consume = {scheduling / rate:.3f}")
        print(f"copies of firings seen (same id, harmless): {firings.copies:,}")
    finally:
        firings.close()
        procs.stop(worker.proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=100_000)
    parser.add_argument("--scheduler-batch", type=int, default=2000)
    args = parser.parse_args()
    bootstrap = os.environ.get("ORDERFLOW_KAFKA_BOOTSTRAP")
    broker = None
    if not bootstrap:
        from orderflow_devstack.broker import start_tansu
        broker = start_tansu()
        bootstrap = broker.bootstrap
    try:
        asyncio.run(run(args, bootstrap))
    finally:
        if broker is not None:
            broker.stop()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
