"""trigger-engine settings (``ORDERFLOW_`` prefix)."""

from __future__ import annotations

from pydantic import Field

from orderflow_runtime.settings import CommonSettings


class TriggerEngineSettings(CommonSettings):
    http_port: int = Field(8002, description="Port of the trigger-engine HTTP API")
    consumer_group: str = Field("orderflow-trigger-engine", description="Faust app id and group")
    faust_datadir: str = Field("", description="Faust's data folder; a temporary one when empty")
