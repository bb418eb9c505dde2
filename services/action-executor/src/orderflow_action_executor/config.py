"""action-executor settings (``ORDERFLOW_`` prefix)."""

from __future__ import annotations

from orderflow_runtime.settings import CommonSettings
from pydantic import Field


class ExecutorSettings(CommonSettings):
    http_port: int = Field(8003, description="Port of the action-executor HTTP API")
    consumer_group: str = Field("orderflow-action-executor", description="Group of the intake")
    allowed_hosts: str = Field(
        "", description="Comma-separated host or host:port that effects may call although they "
        "resolve to loopback, private, link-local or metadata addresses")
    retry_schedule: str = Field(
        "5,30,120,600,1800", description="Seconds to wait before each retry (comma-separated); "
        "when they run out the request is dead")
    retry_jitter: float = Field(0.2, ge=0, le=1, description="Random fraction added to each wait")
    concurrency: int = Field(16, ge=1, description="Effects performed at the same time")
    poll_interval: float = Field(0.2, gt=0, description="Seconds between looks for due requests")

    @property
    def retry_delays(self) -> list[float]:
        return [float(s) for s in self.retry_schedule.split(",") if s.strip()]
