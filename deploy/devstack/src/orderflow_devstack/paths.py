"""Where the development stack keeps its files."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The monorepo's root: this package lives at ``deploy/devstack/src/orderflow_devstack``."""
    return Path(__file__).resolve().parents[4]


def run_dir() -> Path:
    """Runtime files (logs, embedded PostgreSQL data): ``ORDERFLOW_DEV_RUN_DIR`` or ``<repo>/.run``.

    ``.run/`` is git-ignored; tests point the variable elsewhere so they never touch the files of
    a ``make run`` that may be up at the same time."""
    configured = os.environ.get("ORDERFLOW_DEV_RUN_DIR")
    path = Path(configured) if configured else repo_root() / ".run"
    path.mkdir(parents=True, exist_ok=True)
    return path
