"""The services (the four and the console) as subprocesses: launch, wait for ``/healthz``, stop.

Used by the platform runner (``make run``) and by the ``platform`` test fixture alike."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import net, procs


@dataclass(frozen=True)
class ServiceSpec:
    """A service: its name, console script and default HTTP port."""

    name: str
    script: str
    port: int

    @property
    def port_variable(self) -> str:
        """The runner's variable that moves this service: ``ORDERFLOW_DEV_<NAME>_PORT``."""
        return f"ORDERFLOW_DEV_{self.name.upper().replace('-', '_')}_PORT"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("ingest", "orderflow-ingest", 8001),
    ServiceSpec("trigger-engine", "orderflow-trigger-engine", 8002),
    ServiceSpec("action-executor", "orderflow-action-executor", 8003),
    ServiceSpec("history", "orderflow-history", 8004),
    ServiceSpec("console", "orderflow-console", 8005),
)


class ServiceFailed(RuntimeError):
    """A service could not start, did not become healthy, or exited."""


@dataclass
class RunningService:
    """A launched service: where it answers, its process and its log, and how it was started
    (so that it can be started again)."""

    spec: ServiceSpec
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    argv: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    def restart(self) -> None:
        """Start the service again as it was started, its output appended to the same log."""
        self.process = procs.spawn(self.argv, self.env, self.log_path, append=True)

    def failure(self, what: str) -> ServiceFailed:
        """An error naming the service, saying ``what`` happened, with the tail of its log."""
        return ServiceFailed(f"{self.spec.name} {what}; last lines of {self.log_path}:\n"
                             f"{procs.tail(self.log_path)}")


def script_path(script: str) -> Path | None:
    """The console script in this interpreter's environment (the venv), else on PATH."""
    beside = Path(sys.executable).parent / script  # not resolved: the venv's bin, not the base's
    if beside.exists():
        return beside
    found = shutil.which(script)
    return Path(found) if found else None


def missing_scripts(specs: Iterable[ServiceSpec] = SERVICES) -> list[str]:
    """The console scripts of ``specs`` that are not installed."""
    return [s.script for s in specs if script_path(s.script) is None]


def healthy(url: str, timeout: float = 2.0) -> bool:
    """True when ``GET <url>/healthz`` answers 200."""
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=timeout) as answer:
            return int(answer.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def launch(specs: Sequence[ServiceSpec], env: Mapping[str, str], ports: Mapping[str, int],
           log_dir: Path, host: str = "127.0.0.1") -> list[RunningService]:
    """Start every service with ``env`` plus its own ``ORDERFLOW_HTTP_PORT``; its output goes
    to ``<log_dir>/<name>.log``. Refuses a port already taken, before starting anything."""
    for spec in specs:
        if script_path(spec.script) is None:
            raise ServiceFailed(f"{spec.script} is not installed: run `make venv`")
        if net.port_is_open(host, ports[spec.name]):
            raise ServiceFailed(f"port {ports[spec.name]} for {spec.name} is already in use "
                                f"(set {spec.port_variable} to move it)")
    # Where each service is (the console calls the others): ORDERFLOW_<NAME>_URL.
    urls = {f"ORDERFLOW_{s.name.upper().replace('-', '_')}_URL": f"http://{host}:{ports[s.name]}"
            for s in specs}
    started: list[RunningService] = []
    try:
        for spec in specs:
            port, log_path = ports[spec.name], log_dir / f"{spec.name}.log"
            argv = (str(script_path(spec.script)),)
            service_env = {**urls, **env, "ORDERFLOW_HTTP_PORT": str(port)}
            process = procs.spawn(argv, service_env, log_path)
            started.append(RunningService(spec, f"http://{host}:{port}", process, log_path,
                                          argv, service_env))
    except BaseException:
        stop_all(started)
        raise
    return started


def wait_healthy(services: Sequence[RunningService], timeout: float = 90.0) -> None:
    """Wait until every service answers ``/healthz`` with 200; raise ``ServiceFailed`` with the
    log tail of the first one that exits or is still not healthy after ``timeout`` seconds."""
    waiting = list(services)
    deadline = time.monotonic() + timeout
    while waiting:
        for service in list(waiting):
            code = service.process.poll()
            if code is not None:
                raise service.failure(f"exited with code {code} while starting")
            if healthy(service.url):
                waiting.remove(service)
        if waiting and time.monotonic() >= deadline:
            raise waiting[0].failure(f"did not answer {waiting[0].url}/healthz in {timeout:.0f} s")
        if waiting:
            time.sleep(0.3)


def stop_all(services: Sequence[RunningService]) -> None:
    """Stop every service: SIGTERM to all at once, SIGKILL to any still there after 15 s."""
    procs.stop_many([service.process for service in services])


def start_services(specs: Sequence[ServiceSpec], env: Mapping[str, str],
                   ports: Mapping[str, int], log_dir: Path, timeout: float = 90.0,
                   host: str = "127.0.0.1") -> list[RunningService]:
    """``launch`` then ``wait_healthy``; on any failure every started service is stopped."""
    services = launch(specs, env, ports, log_dir, host)
    try:
        wait_healthy(services, timeout)
    except BaseException:
        stop_all(services)
        raise
    return services
