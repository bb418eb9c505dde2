"""``orderflow-console``: serve the console."""

from __future__ import annotations

import logging

from orderflow_runtime.logs import configure
from orderflow_runtime.serve import run_http

from .bootstrap import SERVICE, build_app
from .config import ConsoleSettings


def main() -> None:
    settings = ConsoleSettings()
    configure(settings.log_level, SERVICE)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per API call is noise
    run_http(build_app(settings), settings.http_host, settings.http_port, settings.log_level)


if __name__ == "__main__":
    main()
