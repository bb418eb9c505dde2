"""ingest settings (``ORDERFLOW_`` prefix)."""

from __future__ import annotations

from orderflow_runtime.settings import CommonSettings
from pydantic import Field


class IngestSettings(CommonSettings):
    http_port: int = Field(8001, description="Port of the ingest HTTP API")
    http_workers: int = Field(
        1, ge=1, description="HTTP worker processes (each also runs an order-processor member)")
    consumer_group: str = Field("orderflow-ingest", description="Group of the order processor")
    rate_limit_per_minute: int = Field(
        0, ge=0, description="Requests per minute each API key may make (0: no limit); per process")
    rate_limit_burst: int | None = Field(
        None, ge=1, description="Requests a key may make at once (default: a minute's worth)")
