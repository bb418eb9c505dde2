"""docker-compose.yml agrees with the code: every service is there, waits for a healthy Kafka
and PostgreSQL, sets only real settings, runs its own console script and publishes the port its
settings default to. (No Docker engine is needed: the file is read, not run.)"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml

SERVICES = {
    "ingest": ("orderflow_ingest.config", "IngestSettings"),
    "trigger-engine": ("orderflow_trigger_engine.config", "TriggerEngineSettings"),
    "action-executor": ("orderflow_action_executor.config", "ExecutorSettings"),
    "history": ("orderflow_history.config", "HistorySettings"),
}


@pytest.fixture(scope="module")
def compose(repo_root: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((repo_root / "docker-compose.yml").read_text())
    return loaded


def _settings_class(name: str) -> Any:
    module_name, class_name = SERVICES[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        pytest.skip(f"{module_name} is not importable yet ({exc})")
    return getattr(module, class_name)


def _published(ports: list[Any]) -> list[tuple[int, int]]:
    """(host port, container port) of short ("[ip:]host:container") and long port syntax."""
    pairs = []
    for port in ports:
        if isinstance(port, dict):
            pairs.append((int(port["published"]), int(port["target"])))
        else:
            *_, host, container = str(port).split(":")
            pairs.append((int(host), int(container.split("/")[0])))
    return pairs


def test_broker_and_database_have_healthchecks(compose: dict[str, Any]) -> None:
    kafka, postgres = compose["services"]["kafka"], compose["services"]["postgres"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "broker,controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft
    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert kafka["healthcheck"]["test"]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_waits_for_healthy_kafka_and_postgres(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    assert service["depends_on"] == {"kafka": {"condition": "service_healthy"},
                                     "postgres": {"condition": "service_healthy"}}
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert "/healthz" in " ".join(service["healthcheck"]["test"])
    env = service["environment"]
    assert env["ORDERFLOW_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert env["ORDERFLOW_HTTP_HOST"] == "0.0.0.0"
    assert env["ORDERFLOW_API_KEYS"].startswith("${ORDERFLOW_API_KEYS:?")
    assert "@postgres:5432/" in env["ORDERFLOW_DATABASE_URL"]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_sets_only_real_settings_and_publishes_its_port(
        compose: dict[str, Any], name: str) -> None:
    settings = _settings_class(name)
    service = compose["services"][name]
    unknown = [key for key in service["environment"] if key.startswith("ORDERFLOW_")
               and key.removeprefix("ORDERFLOW_").lower() not in settings.model_fields]
    assert not unknown, f"{name} sets variables {settings.__name__} does not read: {unknown}"
    port = settings.model_fields["http_port"].default
    assert _published(service["ports"]) == [(port, port)]
    assert str(port) in " ".join(service["healthcheck"]["test"])


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_runs_its_console_script(compose: dict[str, Any], name: str) -> None:
    _settings_class(name)  # skips while the package is not there
    script = compose["services"][name]["command"][0]
    package = SERVICES[name][0].split(".")[0]
    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get(script, "").startswith(f"{package}."), f"{script} is not {package}'s"


def test_executor_is_told_its_allowed_hosts(compose: dict[str, Any]) -> None:
    assert "ORDERFLOW_ALLOWED_HOSTS" in compose["services"]["action-executor"]["environment"]


def test_the_console_reaches_each_service_where_compose_runs_it(compose: dict[str, Any]) -> None:
    from orderflow_console.config import ConsoleSettings

    console = compose["services"]["console"]
    env = console["environment"]
    unknown = [k for k in env if k.removeprefix("ORDERFLOW_").lower()
               not in ConsoleSettings.model_fields]
    assert not unknown, f"the console does not read {unknown}"
    assert console["command"] == ["orderflow-console"]
    port = ConsoleSettings.model_fields["http_port"].default
    assert _published(console["ports"]) == [(port, port)]
    for name, (module, cls) in SERVICES.items():
        settings = getattr(importlib.import_module(module), cls)
        url = env[f"ORDERFLOW_{name.upper().replace('-', '_')}_URL"]
        assert url == f"http://{name}:{settings.model_fields['http_port'].default}"
        assert console["depends_on"][name] == {"condition": "service_healthy"}
