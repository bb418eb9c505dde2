"""trigger-engine settings (``ORDERFLOW_`` prefix)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from orderflow_runtime.settings import CommonSettings
from pydantic import Field


class TriggerEngineSettings(CommonSettings):
    http_port: int = Field(8002, description="Port of the trigger-engine HTTP API")
    consumer_group: str = Field("orderflow-trigger-engine", description="Faust app id and group")
    faust_datadir: str = Field("", description="Faust's data folder; a temporary one when empty")
    trigger_consumer: Literal["confluent", "faust"] = Field(
        "confluent", description="The consumer of order events: the runtime's confluent-kafka "
        "consumer group member, or the Faust agent (bench/trigger_bench.py measures both)")
    trigger_batch_size: int = Field(
        2000, ge=1, description="Most events decided in one PostgreSQL transaction")
    trigger_batch_seconds: float = Field(
        0.05, gt=0, description="Longest wait for a batch to fill before it is decided")
    trigger_poll_seconds: float = Field(
        5.0, gt=0, description="How often a worker looks for trigger changes when no "
                               "notification came: a safety net, as changes arrive by "
                               "LISTEN/NOTIFY and a lost connection reloads everything")
    min_delay: timedelta = Field(
        timedelta(0), description="Shortest delay a trigger may have besides none (ISO 8601 or "
                                  "seconds; seed 003's platform uses PT5M)")
    scheduler_batch_size: int = Field(
        1000, ge=1, description="Most due runs one scheduler pass performs in one transaction")
    scheduler_passes: int = Field(
        2, ge=1, description="Scheduler passes a worker runs at once: while one decides in "
        "Python the other waits on PostgreSQL (they claim different runs: SKIP LOCKED)")
    scheduler_poll_seconds: float = Field(
        0.2, gt=0, description="How often a worker looks for due runs when it found none")
