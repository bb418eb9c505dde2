"""``orderflow-action-executor``: run the action-executor service."""

from __future__ import annotations

from orderflow_runtime.logs import configure
from orderflow_runtime.serve import run_http

from .bootstrap import SERVICE, build_app
from .config import ExecutorSettings


def main() -> None:
    settings = ExecutorSettings()
    configure(settings.log_level, SERVICE)
    run_http(build_app(settings), settings.http_host, settings.http_port, settings.log_level)


if __name__ == "__main__":
    main()
