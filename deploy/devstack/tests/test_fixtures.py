"""The small fixtures: unique topic prefixes and the settings of a service under test."""

from __future__ import annotations

import re

import pytest
from orderflow_devstack import broker, database

_seen: set[str] = set()


@pytest.mark.parametrize("run", range(3))
def test_topic_prefix_is_unique_per_test(topic_prefix: str, run: int) -> None:
    assert re.fullmatch(r"t[0-9a-f]{12}\.", topic_prefix)
    assert topic_prefix not in _seen
    _seen.add(topic_prefix)


def test_service_env_points_at_the_session_broker_and_database(
        service_env: dict[str, str], kafka_bootstrap: str, database_url: str,
        topic_prefix: str) -> None:
    assert service_env == {
        "ORDERFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "ORDERFLOW_DATABASE_URL": database_url,
        "ORDERFLOW_TOPIC_PREFIX": topic_prefix,
        "ORDERFLOW_API_KEYS": "test-key",
        "ORDERFLOW_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "ORDERFLOW_EGRESS": "allow-list-only",
        "ORDERFLOW_KAFKA_SESSION_TIMEOUT_MS": "6000",
    }
    broker.wait_ready(kafka_bootstrap, timeout=5)
    assert database.answers(database_url)
