"""trigger-engine settings (``ORDERFLOW_`` prefix)."""

from __future__ import annotations

from orderflow_runtime.settings import CommonSettings
from pydantic import Field


class TriggerEngineSettings(CommonSettings):
    http_port: int = Field(8002, description="Port of the trigger-engine HTTP API")
    consumer_group: str = Field("orderflow-trigger-engine", description="Faust app id and group")
    faust_datadir: str = Field("", description="Faust's data folder; a temporary one when empty")
