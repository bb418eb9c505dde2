"""ingest settings (``ORDERFLOW_`` prefix)."""

from __future__ import annotations

from orderflow_runtime.settings import CommonSettings
from pydantic import Field


class IngestSettings(CommonSettings):
    http_port: int = Field(8001, description="Port of the ingest HTTP API")
    consumer_group: str = Field("orderflow-ingest", description="Group of the order processor")
