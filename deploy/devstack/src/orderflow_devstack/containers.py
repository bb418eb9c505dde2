"""Docker, when a Docker engine really answers: Kafka and PostgreSQL as testcontainers.

The docker CLI alone proves nothing (it is installed on machines with no daemon), so the check
asks the engine itself. testcontainers is imported only inside the functions that need it, so
nothing here breaks where it, or Docker, is missing."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

# testcontainers' KafkaContainer drives the Confluent image's start scripts, hence not apache/kafka.
KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"
POSTGRES_IMAGE = "postgres:16-alpine"


@functools.cache
def docker_available(timeout: float = 3.0) -> bool:
    """True only if a Docker engine responds to ``docker info`` within ``timeout`` seconds."""
    if shutil.which("docker") is None:
        return False
    try:
        done = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and bool(done.stdout.strip())


@contextmanager
def kafka_container() -> Iterator[str]:
    """A single-node KRaft Kafka in Docker; yields its bootstrap address."""
    try:  # testcontainers >= 4.14 moved the modules; older releases have only the old path
        from testcontainers.community.kafka import KafkaContainer
    except ImportError:
        from testcontainers.kafka import KafkaContainer

    with KafkaContainer(KAFKA_IMAGE).with_kraft() as kafka:
        yield str(kafka.get_bootstrap_server())


@contextmanager
def postgres_container() -> Iterator[str]:
    """PostgreSQL 16 in Docker; yields a plain ``postgresql://`` DSN (no driver suffix)."""
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        from testcontainers.postgres import PostgresContainer

    with PostgresContainer(POSTGRES_IMAGE, driver=None) as postgres:
        yield str(postgres.get_connection_url())
