"""``make run``: the whole platform in the foreground (``orderflow-dev`` or
``python -m orderflow_devstack.run``).

It starts Tansu on 127.0.0.1:9092 unless ``ORDERFLOW_KAFKA_BOOTSTRAP`` is set; picks PostgreSQL
and creates a fresh ``orderflow_dev`` database unless ``ORDERFLOW_DATABASE_URL`` is set (the
in-memory broker forgets every topic and offset when it stops, so the read models start over with
it); generates an API key unless ``ORDERFLOW_API_KEYS`` is set; then launches the four services
and waits for their ``/healthz``. SIGINT or SIGTERM stops everything it started: services first,
then the broker and an embedded PostgreSQL. A service that dies (a crash, ``kill -9``) is started
again, as ``restart: unless-stopped`` does in ``docker-compose.yml``: what it was doing is in the
broker and the database, so nothing is lost. One that dies more than ``ORDERFLOW_DEV_MAX_RESTARTS``
times within a minute, or the broker dying (its data was in memory), stops everything with exit
code 1.

Variables of the runner itself (the services read their own ``ORDERFLOW_*``):

- ``ORDERFLOW_DEV_BROKER_PORT``: port of the broker it starts (9092)
- ``ORDERFLOW_DEV_<SERVICE>_PORT``: a service's port, e.g. ``ORDERFLOW_DEV_TRIGGER_ENGINE_PORT``
- ``ORDERFLOW_DEV_SERVICES``: comma-separated subset of the services to run (all four)
- ``ORDERFLOW_DEV_READY_TIMEOUT``: seconds to wait for every ``/healthz`` (90)
- ``ORDERFLOW_DEV_MAX_RESTARTS``: restarts of one service within a minute before giving up (5)
- ``ORDERFLOW_DEV_RUN_DIR``: logs and embedded PostgreSQL data (``<repo>/.run``)
- ``ORDERFLOW_DEV_SMTP_PORT`` / ``ORDERFLOW_DEV_SMS_PORT``: ports of the local SMTP and SMS sinks
  (1025 / 8090) that the e-mail and SMS effects use unless ``ORDERFLOW_SMTP_HOST`` /
  ``ORDERFLOW_SMS_GATEWAY_URL`` are set; what they receive is in ``.run/logs/sinks.log``
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from . import database, launcher, net, paths, procs, sinks
from .broker import TANSU_SETTINGS, Broker, BrokerError, broker_from_env

DEV_DATABASE = "orderflow_dev"


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived."""


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


def say(line: str) -> None:
    """One line for the person (or script) watching; flushed, as stdout may be a file."""
    print(line, flush=True)


@dataclass
class Stack:
    """Everything the runner started, so that it can all be stopped."""

    broker: Broker | None = None
    server: database.Server | None = None
    services: list[launcher.RunningService] = field(default_factory=list)
    sinks: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        """Services first (they flush to the broker and the database), then the broker, then
        an embedded PostgreSQL."""
        launcher.stop_all(self.services)
        if self.sinks is not None:
            procs.stop(self.sinks, timeout=5)
        if self.broker is not None:
            self.broker.stop()
        if self.server is not None:
            self.server.stop()


def selected_services(env: dict[str, str]) -> list[launcher.ServiceSpec]:
    """The services to run: all four, or those named in ``ORDERFLOW_DEV_SERVICES``."""
    wanted = [n.strip() for n in env.get("ORDERFLOW_DEV_SERVICES", "").split(",") if n.strip()]
    known = {spec.name: spec for spec in launcher.SERVICES}
    if unknown := [n for n in wanted if n not in known]:
        raise launcher.ServiceFailed(f"unknown services in ORDERFLOW_DEV_SERVICES: {unknown}")
    return [known[n] for n in wanted] if wanted else list(launcher.SERVICES)


def _api_key(env: dict[str, str]) -> str:
    if not env.get("ORDERFLOW_API_KEYS"):
        env["ORDERFLOW_API_KEYS"] = secrets.token_urlsafe(24)
    first = env["ORDERFLOW_API_KEYS"].split(",")[0].strip()
    return first.partition(":")[0]  # 'key:scope1+scope2' → 'key'


def _database(env: dict[str, str], stack: Stack) -> None:
    if env.get("ORDERFLOW_DATABASE_URL"):
        say("database: ORDERFLOW_DATABASE_URL, used as it is")
        return
    pgdata = paths.run_dir() / "pgdata"
    stack.server = database.pick_server(pgdata)
    env["ORDERFLOW_DATABASE_URL"] = database.create_database(stack.server, DEV_DATABASE)
    local = stack.server.admin_dsn == database.LOCAL_DSN
    where = "127.0.0.1:5432" if local else f"embedded PostgreSQL, {pgdata}"
    say(f"database: fresh {DEV_DATABASE} on {where}")


def _sinks(env: dict[str, str], stack: Stack, log_dir: Path) -> None:
    """Local SMTP and SMS sinks for the e-mail and SMS effects, unless real ones are set."""
    if env.get("ORDERFLOW_SMTP_HOST") or env.get("ORDERFLOW_SMS_GATEWAY_URL"):
        say("e-mail and SMS: ORDERFLOW_SMTP_* / ORDERFLOW_SMS_GATEWAY_URL, used as they are")
        return
    smtp = int(env.get("ORDERFLOW_DEV_SMTP_PORT", sinks.SMTP_PORT))
    sms = int(env.get("ORDERFLOW_DEV_SMS_PORT", sinks.SMS_PORT))
    if net.port_is_open("127.0.0.1", smtp) or net.port_is_open("127.0.0.1", sms):
        say(f"e-mail and SMS sinks not started: port {smtp} or {sms} is in use "
            "(set ORDERFLOW_DEV_SMTP_PORT / ORDERFLOW_DEV_SMS_PORT)")
        return
    stack.sinks = procs.spawn(
        [sys.executable, "-m", "orderflow_devstack.sinks", "--smtp-port", str(smtp),
         "--sms-port", str(sms)], env, log_dir / "sinks.log")
    env["ORDERFLOW_SMTP_HOST"], env["ORDERFLOW_SMTP_PORT"] = "127.0.0.1", str(smtp)
    env["ORDERFLOW_SMS_GATEWAY_URL"] = f"http://127.0.0.1:{sms}{sinks.SMS_PATH}"
    env.setdefault("ORDERFLOW_MANAGER_EMAIL", "manager@localhost")  # notify_manager: the sink
    say(f"e-mail and SMS: local sinks on 127.0.0.1:{smtp} (SMTP) and {sms} (SMS gateway); "
        f"what they receive: {log_dir}/sinks.log")


def start(stack: Stack, env: dict[str, str]) -> str:
    """Bring the platform up into ``stack``; returns the API key."""
    specs = selected_services(env)
    log_dir = paths.run_dir() / "logs"
    say(f"logs: {log_dir}/<service>.log")
    if env.get("ORDERFLOW_KAFKA_BOOTSTRAP"):
        say(f"broker: ORDERFLOW_KAFKA_BOOTSTRAP={env['ORDERFLOW_KAFKA_BOOTSTRAP']}")
    broker_port = int(env.get("ORDERFLOW_DEV_BROKER_PORT", "9092"))
    stack.broker = broker_from_env(broker_port, log_dir / "broker.log")
    env["ORDERFLOW_KAFKA_BOOTSTRAP"] = stack.broker.bootstrap
    if stack.broker.process is not None:
        say(f"broker: Tansu (in memory) on {stack.broker.bootstrap}")
        for name, value in TANSU_SETTINGS.items():
            env.setdefault(name, value)
    _database(env, stack)
    api_key = _api_key(env)
    env.setdefault("ORDERFLOW_ALLOWED_HOSTS", "127.0.0.1,localhost")
    _sinks(env, stack, log_dir)
    ports = {spec.name: int(env.get(spec.port_variable, spec.port)) for spec in specs}
    bind = env.get("ORDERFLOW_HTTP_HOST", "127.0.0.1")
    host = "127.0.0.1" if bind in ("", "0.0.0.0", "::") else bind
    say(f"starting {', '.join(s.name for s in specs)}")
    started = time.monotonic()
    stack.services = launcher.launch(specs, env, ports, log_dir, host)
    launcher.wait_healthy(stack.services, float(env.get("ORDERFLOW_DEV_READY_TIMEOUT", "90")))
    say(f"ready in {time.monotonic() - started:.1f} s")
    return api_key


def watch(stack: Stack, max_restarts: int = 5, window: float = 60.0) -> None:
    """Stay in the foreground until a signal; start a service that died again, unless it died
    more than ``max_restarts`` times within ``window`` seconds (then raise, as when the broker
    dies)."""
    restarts: dict[str, list[float]] = {}
    while True:
        for service in stack.services:
            code = service.process.poll()
            if code is None:
                continue
            now = time.monotonic()
            recent = [t for t in restarts.get(service.spec.name, []) if now - t < window]
            if len(recent) >= max_restarts:
                raise service.failure(f"exited with code {code}, after {len(recent)} "
                                      f"restart(s) in {window:.0f} s")
            restarts[service.spec.name] = [*recent, now]
            say(f"{service.spec.name} exited with code {code}; starting it again "
                f"(log: {service.log_path})")
            service.restart()
        if stack.broker is not None and not stack.broker.alive():
            raise BrokerError(f"the broker exited; see {stack.broker.log_path}")
        time.sleep(0.5)


def main() -> None:
    """Run the platform until SIGINT/SIGTERM; exit 0 after a requested stop, 1 on a failure."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    stack, code = Stack(), 0
    try:
        api_key = start(stack, dict(os.environ))
        for service in stack.services:
            say(f"{service.spec.name:<16}{service.url}")
        say(f"API key: {api_key}")
        say("Ctrl+C (or SIGTERM) stops everything")
        watch(stack, int(os.environ.get("ORDERFLOW_DEV_MAX_RESTARTS", "5")))
    except Interrupted as sig:
        say(f"{sig}: stopping")
    except (launcher.ServiceFailed, BrokerError) as exc:
        say(f"error: {exc}")
        code = 1
    except Exception:  # anything else: the traceback is the useful part
        traceback.print_exc()
        code = 1
    finally:
        # A second Ctrl+C must not cut the clean-up short and leave processes behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        say("stopped")
    sys.exit(code)


if __name__ == "__main__":
    main()
