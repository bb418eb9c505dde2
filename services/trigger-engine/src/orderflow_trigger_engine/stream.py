"""The Faust app: one agent over order events and order actions, in batches
(``take_events``: Faust acks a batch only after the agent has handled it).

Faust acks a message even when the agent raised, so the agent never raises: every batch goes
through ``SafeHandler`` (retry what is transient, dead-letter what is poison)."""

from __future__ import annotations

import tempfile
from typing import Any

import faust
from orderflow_runtime.consumer import SafeHandler
from orderflow_runtime.kafka import Record
from orderflow_schemas.topics import ORDER_ACTIONS, ORDER_EVENTS

from .config import TriggerEngineSettings


def _headers(raw: Any) -> dict[str, bytes]:
    if not raw:
        return {}
    items = raw.items() if isinstance(raw, dict) else raw
    return {k: v for k, v in items}


def build_faust(settings: TriggerEngineSettings, safe: SafeHandler) -> faust.App:
    prefix = settings.topic_prefix
    app = faust.App(
        f"{prefix}{settings.consumer_group}",
        broker=f"kafka://{settings.kafka_bootstrap}",
        broker_session_timeout=settings.kafka_session_timeout_ms / 1000,
        broker_heartbeat_interval=max(0.5, settings.kafka_session_timeout_ms / 4000),
        consumer_auto_offset_reset="earliest",
        datadir=settings.faust_datadir or tempfile.mkdtemp(prefix="orderflow-faust-"),
        store="memory://",
        web_enabled=False,
        topic_allow_declare=False,  # topics come from the registry, created at start-up
        stream_buffer_maxsize=max(4096, settings.trigger_batch_size * 2),
    )
    topic = app.topic(ORDER_EVENTS.qualified(prefix), ORDER_ACTIONS.qualified(prefix),
                      key_type=bytes, value_type=bytes, key_serializer="raw",
                      value_serializer="raw")

    @app.agent(topic, name="triggers")
    async def triggers(stream: Any) -> None:
        async for events in stream.take_events(settings.trigger_batch_size,
                                               within=settings.trigger_batch_seconds):
            await safe.handle([
                Record(e.message.topic, e.message.partition, e.message.offset, e.message.key,
                       e.message.value, _headers(e.message.headers)) for e in events])

    return app
