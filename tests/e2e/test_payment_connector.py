"""The example connector (examples/payment-connector) against the whole platform, as a user runs
it: an order comes in over HTTP, the connector's FORM is in its menu, a named user executes it,
the connector reduces the payment at its fake payment API and answers with a COMMENT that the
order's timeline shows under that execution, with the user who ran it. Killed and started
again, it does not define its FORM twice."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from orderflow_devstack import net

from .test_thread import poll

pytestmark = pytest.mark.e2e
CONNECTOR = Path(__file__).parents[2] / "examples" / "payment-connector" / "connector.py"


def start(platform: Any, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ORDERFLOW_KAFKA_BOOTSTRAP": platform.kafka_bootstrap,
           "ORDERFLOW_TOPIC_PREFIX": platform.topic_prefix, "ORDERFLOW_API_KEY": platform.api_key,
           "ORDERFLOW_EXECUTOR_URL": platform.urls["action-executor"],
           "ORDERFLOW_INGEST_URL": platform.urls["ingest"], "PAYMENT_API_PORT": str(port)}
    return subprocess.Popen([sys.executable, str(CONNECTOR)], env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


@pytest.fixture
def connector(platform: Any, tmp_path: Path) -> Iterator[tuple[int, Any]]:
    port = net.free_port()
    procs = [start(platform, port, tmp_path / "connector.log")]

    def restart() -> None:
        procs[-1].kill()
        procs[-1].wait()
        procs.append(start(platform, port, tmp_path / "connector.log"))

    yield port, restart
    for proc in procs:
        proc.terminate()
        proc.wait(10)


async def test_a_form_executed_by_a_user_is_answered_under_it_in_the_timeline(
        platform: Any, connector: tuple[int, Any]) -> None:
    payment_port, restart = connector
    order_id = f"pay-{uuid.uuid4().hex[:8]}"
    executor, history = platform.urls["action-executor"], platform.urls["history"]
    async with httpx.AsyncClient(headers=platform.headers, timeout=10) as http:
        answer = await http.post(f"{platform.urls['ingest']}/api/v1/orders", json={"orders": [{
            "externalOrderId": order_id, "totalCost": 99.0, "status": "INITIALIZED",
            "date": "2026-11-29T10:00:00+00:00", "email": "ann@example.com"}]})
        assert answer.status_code == 200, answer.text

        menu_url = f"{executor}/api/v1/orders/{order_id}/external-actions/menu"
        menu = await poll(lambda: http.get(menu_url, params={"locale": "de_DE"}), lambda r: (
            r.status_code == 200 and any(e["name"] == "Zahlung kürzen"
                                         for e in r.json()["entries"])))
        [form] = [e for e in menu.json()["entries"] if e["name"] == "Zahlung kürzen"]
        assert [e["label"] for e in form["form"]["elements"] if e["kind"] == "input"] == [
            "Prozent"]

        restart()  # kill -9 and start again: the FORM is found, not defined a second time
        run = f"{executor}/api/v1/orders/{order_id}/external-actions/{form['id']}/execute"
        refused = await http.post(run, json={"user": {"id": "u-7", "name": "Shift Lead"},
                                             "inputs": {"percent": 80}})
        assert refused.status_code == 422
        done = await http.post(run, json={"user": {"id": "u-7", "name": "Shift Lead"},
                                          "inputs": {"percent": 10}})
        assert done.status_code == 201, done.text

        def answered(r: httpx.Response) -> bool:
            return r.status_code == 200 and any(
                e.get("comments") for e in r.json()["entries"] if e["kind"] == "external_action")

        timeline = await poll(lambda: http.get(
            f"{history}/api/v1/orders/{order_id}/timeline"), answered, timeout=90)
        [execution] = [e for e in timeline.json()["entries"] if e["kind"] == "external_action"]
        assert execution["data"]["user"] == {"id": "u-7", "name": "Shift Lead"}
        assert execution["data"]["inputs"] == {"percent": 10}
        [comment] = execution["comments"]
        assert comment["data"]["text"] == "payment reduced by 10%: 99.00 → 89.10"
        assert comment["relatedId"] == form["id"]

        paid = await http.get(f"http://127.0.0.1:{payment_port}/payments/{order_id}")
        assert paid.json()["paid"] == "89.10"
        templates = (await http.get(f"{executor}/api/v1/external-action-templates")).json()
        assert [t["name"]["en_US"] for t in templates["templates"]].count("Reduce payment") == 1
