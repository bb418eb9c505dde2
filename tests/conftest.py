"""Fixtures of the repository-wide tests.

The shared ones (``kafka_bootstrap``, ``database_url``, ``topic_prefix``, ``service_env``,
``platform``) come from ``orderflow_devstack.pytest_plugin``, which the root ``conftest.py``
registers for every test directory; only what is particular to ``tests/`` lives here."""

from __future__ import annotations

from pathlib import Path

import pytest
from orderflow_devstack.paths import repo_root as _repo_root


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The monorepo's root folder."""
    return _repo_root()
