"""``orderflow-history rebuild``: drop the history read models, re-create them by the migrations
and re-project every projected topic from its first offset, with a progress bar.

The topics are read until the broker has nothing more and every partition is past the end
offset it had when the rebuild started (a bar's total may be low: some brokers, Tansu among them,
count batches in their high watermarks, so the end is found by reading), with a consumer
that joins no group and commits nothing; the service's own group offsets are left alone, so a
service started afterwards goes on where it was and anything it sees again changes nothing.
Stop the service while rebuilding: it would write into tables that are being dropped.
Records that cannot be decoded were dead-lettered when first seen; here they are skipped."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from confluent_kafka import Consumer, TopicPartition
from orderflow_runtime.consumer import to_record
from orderflow_runtime.db import create_pool, migrate
from orderflow_runtime.kafka import Record
from orderflow_schemas import DecodeError
from tqdm import tqdm  # type: ignore[import-untyped]

from .config import HistorySettings
from .paths import MIGRATIONS, SERVICE
from .projector import BATCH_SIZE, PROJECTED, Projector, Read

log = logging.getLogger(__name__)


@dataclass
class RebuildReport:
    projected: int = 0
    skipped: int = 0


async def reset_schema(settings: HistorySettings) -> None:
    """Drop the history schema and apply every migration again."""
    pool = await create_pool(settings.database_url, SERVICE, 2)
    try:
        await pool.execute(f'DROP SCHEMA IF EXISTS "{SERVICE}" CASCADE')
        await migrate(pool, SERVICE, MIGRATIONS)
    finally:
        await pool.close()


async def rebuild(settings: HistorySettings, progress: bool = True,
                  batch_size: int = BATCH_SIZE) -> RebuildReport:
    """Re-create the read models from the topics; returns how many records went in."""
    await reset_schema(settings)
    pool = await create_pool(settings.database_url, SERVICE, 2)
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                         "group.id": f"{settings.topic_prefix}{settings.consumer_group}-rebuild",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    report = RebuildReport()
    try:
        ends = await asyncio.to_thread(_assign_from_start, consumer, settings.topic_prefix)
        projector = Projector(pool, settings.topic_prefix)
        with tqdm(total=sum(hi - lo for lo, hi in ends.values()), unit="msg",
                  desc="rebuilding history", disable=not progress) as bar:
            while ends:
                msgs = await asyncio.to_thread(consumer.consume, batch_size, 1.0)
                records = [to_record(m) for m in msgs if not m.error()]
                decoded = _decodable(projector, records, report)
                if decoded:
                    await projector.project(decoded)
                report.projected += len(decoded)
                bar.update(len(records))
                if not msgs:
                    await asyncio.to_thread(_drop_finished, consumer, ends)
    finally:
        await asyncio.to_thread(consumer.close)
        await pool.close()
    return report


def _assign_from_start(consumer: Consumer, prefix: str) -> dict[tuple[str, int], tuple[int, int]]:
    """Assign every partition of the projected topics at its low watermark; returns the
    (low, high) watermark of each partition that holds anything."""
    metadata = consumer.list_topics(timeout=10)
    ends: dict[tuple[str, int], tuple[int, int]] = {}
    for topic in PROJECTED:
        name = topic.qualified(prefix)
        if name not in metadata.topics:
            continue
        for partition in metadata.topics[name].partitions:
            lo, hi = consumer.get_watermark_offsets(TopicPartition(name, partition), timeout=10)
            if hi > lo:
                ends[(name, partition)] = (lo, hi)
    consumer.assign([TopicPartition(t, p, lo) for (t, p), (lo, _) in ends.items()])
    return ends


def _drop_finished(consumer: Consumer, ends: dict[tuple[str, int], tuple[int, int]]) -> None:
    """After a poll that brought nothing: forget the partitions read to their end offset."""
    positions = consumer.position([TopicPartition(t, p) for t, p in ends])
    for tp in positions:
        if tp.offset >= 0 and tp.offset >= ends[(tp.topic, tp.partition)][1]:
            del ends[(tp.topic, tp.partition)]


def _decodable(projector: Projector, records: list[Record], report: RebuildReport) -> list[Read]:
    out = []
    for record in records:
        try:
            out.append(projector.read(record))
        except DecodeError as exc:
            report.skipped += 1
            log.warning("skipped undecodable record",
                        extra={"position": record.position, "reason": str(exc)})
    return out
