"""The platform runner as ``make run`` uses it: in the background, with no terminal.

Run twice on the same ports: the first run is stopped with SIGTERM and must leave nothing
behind; the second must start all the same, start a service killed with SIGKILL again (as
compose's ``restart: unless-stopped`` does), and when the service dies once more than it may
restart, stop everything and exit non-zero."""

from __future__ import annotations

import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from orderflow_devstack import database, launcher, net

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(bool(launcher.missing_scripts()),
                       reason="service console scripts not installed yet: "
                              + ", ".join(launcher.missing_scripts())),
]

URL_LINE = re.compile(r"^(?P<name>[a-z-]+)\s+(?P<url>http://\S+)$")


class Runner:
    """``python -m orderflow_devstack.run`` in a session of its own, its output read by a thread."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "orderflow_devstack.run"], env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line {prefix!r}; the runner said:\n" + "\n".join(self.seen))

    def urls(self) -> dict[str, str]:
        return {m["name"]: m["url"] for m in map(URL_LINE.match, self.seen) if m}

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _children(pid: int) -> list[psutil.Process]:
    return list(psutil.Process(pid).children(recursive=True))


def _gone(processes: list[psutil.Process]) -> bool:
    return not [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.fixture
def runner_env(tmp_path: Path, database_url: str) -> Iterator[dict[str, str]]:
    """Its own broker port, service ports, run folder and database; a generated API key."""
    server = database.Server(database_url)
    name = f"orderflow_run_{secrets.token_hex(4)}"
    dsn = database.create_database(server, name)
    env = {k: v for k, v in os.environ.items() if k not in (
        "ORDERFLOW_KAFKA_BOOTSTRAP", "ORDERFLOW_API_KEYS", "ORDERFLOW_DEV_SERVICES")}
    env.update({
        "ORDERFLOW_DEV_RUN_DIR": str(tmp_path),
        "ORDERFLOW_DEV_BROKER_PORT": str(net.free_port()),
        "ORDERFLOW_DATABASE_URL": dsn,
        "ORDERFLOW_KAFKA_SESSION_TIMEOUT_MS": "6000",
    })
    env.update({spec.port_variable: str(net.free_port()) for spec in launcher.SERVICES})
    yield env
    database.drop_database(server, name)


def _start(env: dict[str, str]) -> tuple[Runner, dict[str, str], list[psutil.Process]]:
    runner = Runner(env)
    key = runner.wait_for("API key: ", timeout=150).removeprefix("API key: ")
    assert len(key) >= 16
    urls = runner.urls()
    assert sorted(urls) == sorted(spec.name for spec in launcher.SERVICES)
    for name, url in urls.items():
        assert launcher.healthy(url), f"{name} at {url} does not answer /healthz"
    children = _children(runner.process.pid)
    assert len(children) >= len(launcher.SERVICES) + 1  # the services and the broker
    return runner, urls, children


def _ports(env: dict[str, str]) -> list[int]:
    return [int(env["ORDERFLOW_DEV_BROKER_PORT"])] + [
        int(env[spec.port_variable]) for spec in launcher.SERVICES]


def test_runner_starts_everything_and_a_signal_stops_everything(
        runner_env: dict[str, str]) -> None:
    runner, _urls, children = _start(runner_env)
    try:
        runner.process.send_signal(signal.SIGTERM)
        assert runner.process.wait(60) == 0, "\n".join(runner.seen)
    finally:
        runner.kill()
    assert _gone(children), [p.cmdline() for p in children if p.is_running()]
    assert not [p for p in _ports(runner_env) if net.port_is_open("127.0.0.1", p)]
    assert (Path(runner_env["ORDERFLOW_DEV_RUN_DIR"]) / "logs" / "ingest.log").exists()

    # A second run on the same ports works; a service killed is started again, and one that
    # keeps dying (more than ORDERFLOW_DEV_MAX_RESTARTS times a minute) takes the platform down.
    runner_env["ORDERFLOW_DEV_MAX_RESTARTS"] = "1"
    runner, urls, children = _start(runner_env)
    try:
        victim = next(p for p in children if "orderflow-history" in " ".join(p.cmdline()))
        victim.kill()
        runner.wait_for("history exited with code -9; starting it again", timeout=10)
        deadline = time.monotonic() + 60
        while not launcher.healthy(urls["history"]) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert launcher.healthy(urls["history"]), "history was not started again"
        assert runner.process.poll() is None
        again = next(p for p in _children(runner.process.pid)
                     if "orderflow-history" in " ".join(p.cmdline()))
        assert again.pid != victim.pid
        children.append(again)
        again.kill()
        assert runner.process.wait(60) == 1
        runner.wait_for("error: history exited with code -9, after 1 restart(s)", timeout=5)
    finally:
        runner.kill()
    assert _gone(children), [p.cmdline() for p in children if p.is_running()]
    assert not [p for p in _ports(runner_env) if net.port_is_open("127.0.0.1", p)]
