"""history settings (``ORDERFLOW_`` prefix)."""

from __future__ import annotations

from orderflow_runtime.settings import CommonSettings
from pydantic import Field


class HistorySettings(CommonSettings):
    http_port: int = Field(8004, description="Port of the history query API")
    consumer_group: str = Field("orderflow-history", description="Group of the projection")
    page_size_max: int = Field(500, description="Largest page any list endpoint returns")
