"""console settings (``ORDERFLOW_`` prefix). It has no database or topic: only the URLs of the
services it is a client of."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERFLOW_", extra="ignore")

    http_host: str = Field("127.0.0.1", description="Address the console binds")
    http_port: int = Field(8005, description="Port of the console")
    log_level: str = Field("INFO", description="Python log level")
    ingest_url: str = Field("http://127.0.0.1:8001", description="The ingest service")
    trigger_engine_url: str = Field("http://127.0.0.1:8002", description="The trigger-engine")
    action_executor_url: str = Field("http://127.0.0.1:8003", description="The action-executor")
    history_url: str = Field("http://127.0.0.1:8004", description="The history service")
    session_secret: str = Field(
        "", description="Signs the session cookie; a random one per start when empty (sessions "
        "then end with the process; set one for several console processes)")
    session_hours: float = Field(8.0, gt=0, description="How long a sign-in lasts")
    secure_cookies: bool = Field(
        False, description="Mark the session cookie Secure (behind HTTPS in production)")
