"""Putting a bench's data in place: its database, and records produced onto a topic."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg
from confluent_kafka import Producer


def produce_all(producer: Producer, topic: str, items: Iterable[tuple[str | None, bytes]],
                wait: float = 0.01, flush_timeout: float = 60) -> None:
    """Produce every (key, value) and wait for the broker's acks; a full local queue is
    drained by serving delivery reports until the record fits."""
    for key, value in items:
        while True:
            try:
                producer.produce(topic, key=key, value=value)
                break
            except BufferError:
                producer.poll(wait)
    if producer.flush(flush_timeout):
        raise RuntimeError(f"records to {topic} still unacknowledged after {flush_timeout} s")


async def ensure_database(dsn: str, fresh: bool = False) -> None:
    """Create the database ``dsn`` names if it is missing (``fresh``: drop it first, with
    whoever is still connected). No server there ends the bench with the reason."""
    base, name = dsn.rsplit("/", 1)
    try:
        admin = await asyncpg.connect(base + "/postgres")
    except (OSError, asyncpg.PostgresError) as exc:
        raise SystemExit(f"no PostgreSQL at {dsn}: {exc}") from exc
    try:
        if fresh:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
