"""Seed 001's internal effects against a real broker, PostgreSQL and SMTP server (aiosmtpd):
a task opened once and completed by a named user, the open-task list; a manager notified once by
e-mail and on record; order and customer data changed by sending the changes to ingest (which
merges them onto the order as it stands then: tests/e2e), once, and never when ingest would
refuse them."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio
from orderflow_action_executor.config import ExecutorSettings
from orderflow_devstack.topics import read_all
from orderflow_runtime.kafka import EventProducer
from orderflow_schemas import ActionRequest, InternalEffect, OrderEvent
from orderflow_schemas.topics import ACTION_REQUESTS, ORDER_CHANGES, ORDER_EVENTS
from pydantic import ValidationError

from .conftest import serving

pytestmark = pytest.mark.asyncio(loop_scope="module")
KEY = "internal-key"
USER = {"id": "u-7", "name": "Shift Lead"}


class Executor:
    def __init__(self, api: httpx.AsyncClient, producer: EventProducer, app: Any,
                 bootstrap: str, prefix: str) -> None:
        self.api, self.producer, self.app = api, producer, app
        self.bootstrap, self.prefix = bootstrap, prefix

    async def known_order(self, **fields: Any) -> dict[str, Any]:
        """An order the executor has seen on orderflow.order-events."""
        order_id = f"in-{uuid.uuid4().hex[:8]}"
        document = {"externalOrderId": order_id, "status": "DELIVERED", "totalCost": 120.0,
                    "date": "2026-11-29T10:00:00+00:00", "email": "ann@example.com",
                    "firstName": "Ann", "deliveryMethod": "pickup", **fields}
        await self.producer.send(ORDER_EVENTS, order_id, OrderEvent(
            name="orderDELIVERED", external_order_id=order_id, status="DELIVERED",
            version_tag="v1", sequence=1, order=document))
        deadline = time.monotonic() + 30
        while not await self.app.state.pool.fetchval(
                "SELECT 1 FROM known_orders WHERE external_order_id = $1", order_id):
            assert time.monotonic() < deadline, "the executor never saw the order"
            await asyncio.sleep(0.1)
        return document

    async def send(self, kind: str, params: dict[str, Any], order: dict[str, Any],
                   twice: bool = False) -> ActionRequest:
        request = ActionRequest(
            external_order_id=order["externalOrderId"], trigger_id="t-internal",
            trigger_name="internal", firing_id="f-1", event_id=str(uuid.uuid4()),
            effect=InternalEffect(kind=kind, params=params), order=order)  # type: ignore[arg-type]
        for _ in range(2 if twice else 1):
            await self.producer.send(ACTION_REQUESTS, request.external_order_id, request)
        return request

    async def outcome(self, request: ActionRequest) -> tuple[str, str | None]:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            row = await self.app.state.pool.fetchrow(
                "SELECT state, last_error FROM requests WHERE request_id = $1", request.id)
            if row is not None and row["state"] != "pending":
                return row["state"], row["last_error"]
            await asyncio.sleep(0.1)
        raise AssertionError(f"request {request.id} was never performed")

    async def changes(self, order_id: str, wait: float = 3) -> list[dict[str, Any]]:
        """The changes sent to ingest for the order."""
        raw = await read_all(self.bootstrap, ORDER_CHANGES, self.prefix, None,
                             keep=lambda v: order_id.encode() in v, timeout=wait)
        return [orjson.loads(v)["changes"] for v in raw]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def executor(kafka_bootstrap: str, database_url: str, smtp: Any) -> AsyncIterator[Executor]:
    prefix = f"int{uuid.uuid4().hex[:8]}."
    settings = ExecutorSettings(
        kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=prefix,
        api_keys=KEY, egress="allow-list-only", retry_schedule="0.3", lease_seconds=1,
        smtp_port=smtp[1], mail_from="shop@example.com", manager_email="boss@example.com")
    async with serving(settings, KEY) as (app, api, producer):
        yield Executor(api, producer, app, kafka_bootstrap, prefix)


async def test_a_task_is_opened_once_listed_and_completed_by_a_user(executor: Executor) -> None:
    order = await executor.known_order()
    request = await executor.send("task", {"title": "Call {order.firstName} about {id_order}",
                                           "assignee": "support"}, order, twice=True)
    assert (await executor.outcome(request))[0] == "succeeded"
    await asyncio.sleep(1.5)  # room for a wrong second task (the lease is 1 s)
    listed = (await executor.api.get("/api/v1/tasks",
                                     params={"order": order["externalOrderId"]})).json()
    [task] = listed["tasks"]
    assert task["title"] == f"Call Ann about {order['externalOrderId']}"
    assert (task["state"], task["assignee"]) == ("open", "support")
    assert task["id"] in [t["id"] for t in (await executor.api.get(
        "/api/v1/tasks", params={"assignee": "support", "limit": 500})).json()["tasks"]]

    done = await executor.api.post(f"/api/v1/tasks/{task['id']}/complete", json={"user": USER})
    assert done.status_code == 200 and done.json()["doneBy"] == USER
    again = await executor.api.post(f"/api/v1/tasks/{task['id']}/complete", json={"user": USER})
    assert again.status_code == 200
    other = await executor.api.post(f"/api/v1/tasks/{task['id']}/complete",
                                    json={"user": {"id": "u-8", "name": "Bob"}})
    assert other.status_code == 409 and "Shift Lead" in other.text
    still_open = (await executor.api.get("/api/v1/tasks",
                                         params={"order": order["externalOrderId"]})).json()
    assert still_open["tasks"] == []
    assert (await executor.api.post("/api/v1/tasks/nope/complete",
                                    json={"user": USER})).status_code == 404
    assert (await executor.api.post(f"/api/v1/tasks/{task['id']}/complete",
                                    json={})).status_code == 422


async def test_the_open_task_list_pages_oldest_first(executor: Executor) -> None:
    order = await executor.known_order()
    requests = []
    for n in range(5):
        requests.append(await executor.send("task", {"title": f"task {n}"}, order))
        assert (await executor.outcome(requests[-1]))[0] == "succeeded"
    seen, cursor = [], None
    while True:
        page = (await executor.api.get("/api/v1/tasks", params={
            "order": order["externalOrderId"], "limit": 2,
            **({"cursor": cursor} if cursor else {})})).json()
        seen += [t["title"] for t in page["tasks"]]
        if not (cursor := page["nextCursor"]):
            break
    assert seen == [f"task {n}" for n in range(5)]
    assert (await executor.api.get("/api/v1/tasks", params={"cursor": "%%"})).status_code == 400


async def test_the_manager_is_notified_once_by_email_and_on_record(
        executor: Executor, smtp: Any) -> None:
    box, _ = smtp
    order = await executor.known_order()
    request = await executor.send("notify_manager", {
        "subject": "Big order {id_order}", "text": "{order.firstName} spent {order.totalCost}"},
        order, twice=True)
    assert (await executor.outcome(request))[0] == "succeeded"
    await asyncio.sleep(1.5)
    mails = [m for m in box.messages if order["externalOrderId"] in m["Subject"]]
    assert len(mails) == 1 and mails[0]["To"] == "boss@example.com"
    assert "Ann spent 120.0" in mails[0].get_payload()
    notes = (await executor.api.get("/api/v1/notifications",
                                    params={"order": order["externalOrderId"]})).json()
    assert [(n["to"], n["subject"]) for n in notes["notifications"]] == [
        ("boss@example.com", f"Big order {order['externalOrderId']}")]


async def test_a_change_goes_back_through_ingest_once(executor: Executor) -> None:
    order = await executor.known_order()
    request = await executor.send("change_order", {"changes": {"deliveryMethod": "courier"}},
                                  order, twice=True)
    state, _ = await executor.outcome(request)
    assert state == "succeeded"
    await asyncio.sleep(1.5)
    assert await executor.changes(order["externalOrderId"]) == [{"deliveryMethod": "courier"}]


async def test_a_customer_change(executor: Executor) -> None:
    order = await executor.known_order()
    customer = await executor.send("change_customer", {"changes": {
        "email": "ann.new@example.com"}}, order)
    assert (await executor.outcome(customer))[0] == "succeeded"
    assert await executor.changes(order["externalOrderId"]) == [{"email": "ann.new@example.com"}]


async def test_a_change_ingest_would_refuse_is_dead_with_the_reason(executor: Executor) -> None:
    order = await executor.known_order()
    request = await executor.send("change_order", {"changes": {"totalCost": -5}}, order)
    state, detail = await executor.outcome(request)
    assert state == "dead" and "totalCost" in (detail or "")
    assert await executor.changes(order["externalOrderId"], wait=1) == []


async def test_an_order_not_seen_yet_is_checked_as_the_trigger_saw_it(
        executor: Executor) -> None:
    order = {"externalOrderId": f"late-{uuid.uuid4().hex[:8]}", "status": "DELIVERED",
             "totalCost": 10.0, "date": "2026-11-29T10:00:00+00:00"}
    request = await executor.send("change_order", {"changes": {"deliveryMethod": "courier"}},
                                  order)
    assert (await executor.outcome(request))[0] == "succeeded"
    assert await executor.changes(order["externalOrderId"]) == [{"deliveryMethod": "courier"}]
    refused = await executor.send("change_order", {"changes": {"status": "NOPE"}}, order)
    assert (await executor.outcome(refused))[0] == "dead"


@pytest.mark.parametrize(("kind", "params", "says"), [
    ("task", {}, "params: a task needs title"),
    ("task", {"title": "x", "priority": 1}, "takes no priority"),
    ("task", {"title": "{nothing.here}"}, "unknown variable"),
    ("notify_manager", {"subject": "x"}, "needs text"),
    ("change_order", {"changes": {}}, "at least one"),
    ("change_order", {"changes": {"externalOrderId": "other"}}, "cannot be changed"),
    ("change_customer", {"changes": {"status": "CANCELLED"}}, "not customer data: status"),
])
async def test_bad_params_are_refused_when_the_trigger_is_saved(
        kind: str, params: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        InternalEffect(kind=kind, params=params)  # type: ignore[arg-type]
