"""Docker detection: only an engine that answers counts."""

from __future__ import annotations

import pytest
from orderflow_devstack import containers


def test_no_docker_cli_means_no_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    containers.docker_available.cache_clear()
    monkeypatch.setenv("PATH", "/nonexistent")
    try:
        assert containers.docker_available() is False
    finally:
        containers.docker_available.cache_clear()


def test_answer_is_quick_and_boolean() -> None:
    containers.docker_available.cache_clear()
    assert isinstance(containers.docker_available(timeout=3), bool)
