"""The ``platform`` fixture: four healthy services, each on the port it was given."""

from __future__ import annotations

import urllib.request

import pytest
from orderflow_devstack import launcher
from orderflow_devstack.pytest_plugin import Platform

pytestmark = pytest.mark.e2e


def test_every_service_answers_healthz_and_metrics(platform: Platform) -> None:
    assert sorted(platform.urls) == sorted(spec.name for spec in launcher.SERVICES)
    for url in platform.urls.values():
        assert launcher.healthy(url)
        with urllib.request.urlopen(f"{url}/metrics/", timeout=5) as answer:
            assert answer.status == 200
    assert platform.headers == {"Authorization": "Bearer test-key"}
