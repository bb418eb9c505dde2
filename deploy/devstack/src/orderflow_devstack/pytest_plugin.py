"""Fixtures shared by every test directory; the root ``conftest.py`` registers this plugin.

- ``kafka_bootstrap`` (session): ``ORDERFLOW_KAFKA_BOOTSTRAP`` if set; else Kafka in Docker when
  a Docker engine answers; else a Tansu of its own on a free port (so tests run beside
  ``make run``).
- ``database_url`` (session): a fresh ``orderflow_test_<hex>`` database on the server of
  ``ORDERFLOW_DATABASE_URL`` if set; else PostgreSQL in Docker when an engine answers; else on
  127.0.0.1:5432 or an embedded server. Dropped at the end.
- ``topic_prefix`` (function): ``t<hex>.``, unique per test.
- ``service_env`` (function): the ``ORDERFLOW_*`` variables of a service under test.
- ``platform`` (session): the four services as real processes on free ports, healthy.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from . import broker, containers, database, launcher, net, paths

TEST_API_KEY = "test-key"


def service_variables(kafka_bootstrap: str, database_url: str, topic_prefix: str) -> dict[str, str]:
    """The ``ORDERFLOW_*`` settings every service needs in a test."""
    return {
        "ORDERFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "ORDERFLOW_DATABASE_URL": database_url,
        "ORDERFLOW_TOPIC_PREFIX": topic_prefix,
        "ORDERFLOW_API_KEYS": TEST_API_KEY,
        "ORDERFLOW_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Effects in tests never leave this machine, whatever URL a (fuzzed) trigger names.
        "ORDERFLOW_EGRESS": "allow-list-only",
        "ORDERFLOW_KAFKA_SESSION_TIMEOUT_MS": "6000",
    }


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a real Kafka-protocol broker for the whole session."""
    external = os.environ.get("ORDERFLOW_KAFKA_BOOTSTRAP")
    if external:
        broker.wait_ready(external, timeout=15)
        yield external
    elif containers.docker_available():
        with containers.kafka_container() as bootstrap:
            yield bootstrap
    else:
        own = broker.start_tansu(log_path=tmp_path_factory.mktemp("broker") / "broker.log")
        try:
            yield own.bootstrap
        finally:
            own.stop()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """DSN of a fresh PostgreSQL database for the whole session."""
    if not os.environ.get("ORDERFLOW_DATABASE_URL") and containers.docker_available():
        with containers.postgres_container() as dsn:
            yield dsn
        return
    server = database.pick_server(paths.run_dir() / "pgdata")
    name = f"orderflow_test_{secrets.token_hex(4)}"
    owned: str | None = name
    try:
        dsn = database.create_database(server, name)
    except asyncpg.InsufficientPrivilegeError:
        # A given server where we may not create databases: use its database as it is.
        dsn, owned = server.admin_dsn, None
    try:
        yield dsn
    finally:
        if owned:
            database.drop_database(server, owned)
        server.stop()


@pytest.fixture
def topic_prefix() -> str:
    """A topic-name prefix of this test alone, e.g. ``t3f9a0c21d4e8.``."""
    return f"t{secrets.token_hex(6)}."


@pytest.fixture
def service_env(kafka_bootstrap: str, database_url: str, topic_prefix: str) -> dict[str, str]:
    """``ORDERFLOW_*`` variables for a service under test: session broker and database, this
    test's topic prefix, API key ``test-key``, only loopback reachable by effects
    (``ORDERFLOW_EGRESS=allow-list-only``), a short group session timeout.
    Apply them with ``monkeypatch.setenv`` or pass them to a subprocess."""
    return service_variables(kafka_bootstrap, database_url, topic_prefix)


@dataclass(frozen=True)
class Platform:
    """The running services of the ``platform`` fixture."""

    urls: dict[str, str]
    api_key: str
    topic_prefix: str
    kafka_bootstrap: str
    database_url: str
    log_dir: Path

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization`` header for the ``/api/`` routes."""
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def ingest(self) -> str:
        return self.urls["ingest"]

    @property
    def trigger_engine(self) -> str:
        return self.urls["trigger-engine"]

    @property
    def action_executor(self) -> str:
        return self.urls["action-executor"]

    @property
    def history(self) -> str:
        return self.urls["history"]


@pytest.fixture(scope="session")
def platform(kafka_bootstrap: str, database_url: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The four services as real subprocesses (their console scripts) on free ports, against
    the session broker with a prefix of their own and a database of their own; healthy when
    yielded, stopped at the end. Logs: ``Platform.log_dir``."""
    if missing := launcher.missing_scripts():
        pytest.skip(f"service console scripts not installed yet: {', '.join(missing)}")
    server = database.Server(database_url)
    db_name = f"orderflow_e2e_{secrets.token_hex(4)}"
    dsn = database.create_database(server, db_name)
    prefix = f"e2e{secrets.token_hex(4)}."
    env = {**os.environ, **service_variables(kafka_bootstrap, dsn, prefix)}
    ports = {spec.name: net.free_port() for spec in launcher.SERVICES}
    log_dir = tmp_path_factory.mktemp("platform-logs")
    try:
        services = launcher.start_services(launcher.SERVICES, env, ports, log_dir, timeout=120)
        try:
            yield Platform({s.spec.name: s.url for s in services}, TEST_API_KEY, prefix,
                           kafka_bootstrap, dsn, log_dir)
        finally:
            launcher.stop_all(services)
    finally:
        database.drop_database(server, db_name)
