"""Running a service: uvicorn for HTTP, and the service's background workers in the same loop."""

from __future__ import annotations

import gc

import uvicorn
from fastapi import FastAPI

# Collect the youngest generation every 50,000 allocations instead of 700: services build
# and drop many short-lived objects per message (pydantic models, dicts), and collecting them
# that often was about a tenth of ingest's time (bench/ingest_bench.py).
GC_THRESHOLD = (50_000, 20, 20)


def tune_gc() -> None:
    """Call once the service is imported: what exists now lives as long as the process, so the
    collector is told to leave it alone (``gc.freeze``)."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def run_http(app: FastAPI, host: str, port: int, log_level: str) -> None:
    """Serve until SIGINT/SIGTERM; the app's lifespan starts and stops the workers."""
    tune_gc()
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level.lower(),
                            log_config=None, access_log=False, lifespan="on")
    uvicorn.Server(config).run()
