"""``orderflow-ingest``: run the ingest service.

With ``ORDERFLOW_HTTP_WORKERS`` > 1, uvicorn runs that many processes, each with its own app
(and its own order-processor member of the consumer group, rate limiter and pools): the intake
is CPU-bound, and one Python process uses one core."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI
from orderflow_runtime.logs import configure
from orderflow_runtime.serve import run_http, tune_gc

from .bootstrap import SERVICE, build_app
from .config import IngestSettings


def worker_app() -> FastAPI:
    """The app of one worker process (a uvicorn factory)."""
    tune_gc()
    settings = IngestSettings()
    configure(settings.log_level, SERVICE)
    return build_app(settings)


def main() -> None:
    settings = IngestSettings()
    configure(settings.log_level, SERVICE)
    if settings.http_workers > 1:
        uvicorn.run("orderflow_ingest.main:worker_app", factory=True, host=settings.http_host,
                    port=settings.http_port, workers=settings.http_workers,
                    log_level=settings.log_level.lower(), log_config=None, access_log=False,
                    lifespan="on")
    else:
        run_http(build_app(settings), settings.http_host, settings.http_port, settings.log_level)


if __name__ == "__main__":
    main()
