"""Seed 001's courier example end to end, over the public interfaces only: a delivered order
has its delivery method changed by an internal effect; the change goes back through ingest (a
new versionTag, an orderUPDATED event with what changed), and a second trigger listening to that
field change opens a task, which the open-task list shows."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from .test_thread import poll

pytestmark = pytest.mark.e2e


async def test_a_change_goes_through_ingest_and_triggers_in_turn(platform: Any) -> None:
    order_id = f"courier-{uuid.uuid4().hex[:8]}"
    engine, ingest = platform.urls["trigger-engine"], platform.urls["ingest"]
    executor, history = platform.urls["action-executor"], platform.urls["history"]
    async with httpx.AsyncClient(headers=platform.headers, timeout=10) as http:
        for body in (
            {"name": "send big orders by courier", "event": "orderDELIVERED",
             "conditions": [{"field": "order.externalOrderId", "op": "eq", "value": order_id}],
             "effects": [{"type": "internal", "kind": "change_order",
                          "params": {"changes": {"deliveryMethod": "courier"}}}]},
            {"name": "brief the courier",
             "event": {"fieldChange": {"field": "deliveryMethod", "to": "courier"}},
             "conditions": [{"field": "order.externalOrderId", "op": "eq", "value": order_id}],
             "effects": [{"type": "internal", "kind": "task",
                          "params": {"title": "Hand {id_order} to the courier",
                                     "assignee": "dispatch"}}]},
        ):
            answer = await http.post(f"{engine}/api/v1/triggers", json={"enabled": True, **body})
            assert answer.status_code == 201, answer.text

        answer = await http.post(f"{ingest}/api/v1/orders", json={"orders": [{
            "externalOrderId": order_id, "totalCost": 800, "status": "DELIVERED",
            "date": "2026-11-29T10:00:00+00:00", "email": "ann@example.com",
            "deliveryMethod": "pickup"}]})
        assert answer.status_code == 200, answer.text
        first_tag = answer.json()["accepted"][0]["versionTag"]

        tasks = await poll(lambda: http.get(f"{executor}/api/v1/tasks",
                                            params={"order": order_id}),
                           lambda r: r.status_code == 200 and r.json()["tasks"], timeout=60)
        [task] = tasks.json()["tasks"]
        assert (task["title"], task["assignee"]) == (f"Hand {order_id} to the courier",
                                                     "dispatch")

        order = (await http.get(f"{ingest}/api/v1/orders/{order_id}")).json()
        assert order["order"]["deliveryMethod"] == "courier"
        assert order["versionTag"] != first_tag
        # History projects on its own time: wait for the event there.
        timeline = (await poll(
            lambda: http.get(f"{history}/api/v1/orders/{order_id}/timeline",
                             params={"kind": "order_event"}),
            lambda r: r.status_code == 200 and any(
                e["name"] == "orderUPDATED" for e in r.json()["entries"]))).json()
        updated = [e for e in timeline["entries"] if e["name"] == "orderUPDATED"]
        assert [c["field"] for c in updated[0]["data"]["changes"]] == ["deliveryMethod"]
