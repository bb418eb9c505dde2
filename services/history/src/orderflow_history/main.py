"""``orderflow-history``: run the history service; ``orderflow-history rebuild``: re-create its
read models from the topics (stop the service first)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from orderflow_runtime.logs import configure
from orderflow_runtime.serve import run_http, tune_gc

from .bootstrap import SERVICE, build_app
from .config import HistorySettings


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="orderflow-history", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the query API and run the projection (default)")
    rebuild_cmd = commands.add_parser(
        "rebuild", help="drop the read models and re-project every topic from offset 0")
    rebuild_cmd.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    settings = HistorySettings()
    configure(settings.log_level, SERVICE)
    if args.command == "rebuild":
        from .rebuild import rebuild

        tune_gc()
        report = asyncio.run(rebuild(settings, progress=not args.no_progress))
        print(f"rebuilt: {report.projected} records projected, {report.skipped} skipped",
              file=sys.stderr)
        return
    run_http(build_app(settings), settings.http_host, settings.http_port, settings.log_level)


if __name__ == "__main__":
    main()
