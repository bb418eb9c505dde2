"""Running a service: uvicorn for HTTP, and the service's background workers in the same loop."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI


def run_http(app: FastAPI, host: str, port: int, log_level: str) -> None:
    """Serve until SIGINT/SIGTERM; the app's lifespan starts and stops the workers."""
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level.lower(),
                            log_config=None, access_log=False, lifespan="on")
    uvicorn.Server(config).run()
