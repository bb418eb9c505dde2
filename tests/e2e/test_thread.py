"""The thread through all four services, over their public interfaces only (issue 2):
a trigger over HTTP, a DELIVERED order over HTTP, exactly one call to the hook, and the order's
timeline in history."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from .hooks import HookServer

pytestmark = pytest.mark.e2e


async def poll(fetch: Any, until: Any, timeout: float = 60) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await fetch()
        if until(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition never held; last value: {value}")
        await asyncio.sleep(0.25)


async def test_a_delivered_order_fires_the_hook_once_and_shows_in_the_timeline(
        platform: Any) -> None:
    hooks = await HookServer().start()
    headers = {"Authorization": f"Bearer {platform.api_key}"}
    order_id = f"e2e-{uuid.uuid4().hex[:8]}"
    try:
        async with httpx.AsyncClient(headers=headers, timeout=10) as http:
            answer = await http.post(f"{platform.urls['trigger-engine']}/api/v1/triggers", json={
                "name": "delivered hook", "enabled": True, "event": "orderDELIVERED",
                "conditions": [{"field": "order.totalCost", "op": "gt", "value": 500}],
                "delay": "PT0S", "schedule": {"mode": "continuous"},
                "effects": [{"type": "http", "method": "POST",
                             "url": f"http://127.0.0.1:{hooks.port}/hook/{{id_order}}/{{id_job}}",
                             "expectedStatus": [200]}]})
            assert answer.status_code == 201, answer.text
            trigger_id = answer.json()["id"]

            answer = await http.post(f"{platform.urls['ingest']}/api/v1/orders", json={"orders": [{
                "externalOrderId": order_id, "externalCustomerId": "c-42", "totalCost": 1000,
                "status": "DELIVERED", "date": "2024-05-01T10:00:00+02:00",
                "email": "ann@example.com", "shipping": 10, "items": [{
                    "externalItemId": "200600", "name": "Super Device", "quantity": 1,
                    "cost": 990, "url": "http://example.com/i", "imageUrl": "http://example.com/p"}],
            }]})
            assert answer.status_code == 200, answer.text
            assert [a["externalOrderId"] for a in answer.json()["accepted"]] == [order_id]

            calls = await hooks.wait_for(f"/hook/{order_id}/")
            assert calls[0].path == f"/hook/{order_id}/{trigger_id}"
            assert calls[0].method == "POST"

            async def timeline() -> dict[str, Any]:
                r = await http.get(f"{platform.urls['history']}/api/v1/orders/{order_id}/timeline")
                return r.json() if r.status_code == 200 else {"entries": []}

            kinds = {"order_event", "trigger_evaluation", "trigger_firing", "effect_succeeded"}
            seen = await poll(timeline, lambda t: kinds <= {e["kind"] for e in t["entries"]})
            entries = seen["entries"]
            event = next(e for e in entries if e["kind"] == "order_event")
            # Only this test's trigger: the platform is shared with other end-to-end tests.
            firing = next(e for e in entries if e["kind"] == "trigger_firing"
                          and e["data"]["triggerId"] == trigger_id)
            result = next(e for e in entries if e["kind"] == "effect_succeeded"
                          and e["data"]["triggerId"] == trigger_id)
            assert event["name"] == "orderDELIVERED"
            assert firing["data"]["outcome"] == "fired"
            explained = next(e for e in entries if e["kind"] == "trigger_evaluation")
            assert [(v["triggerId"], v["outcome"]) for v in explained["data"]["verdicts"]
                    if v["triggerId"] == trigger_id] == [(trigger_id, "fired")]
            assert result["data"]["httpStatus"] == 200
            assert entries.index(event) < entries.index(firing) < entries.index(result)

            await asyncio.sleep(2)  # a late duplicate would show up here
            assert len(hooks.to(f"/hook/{order_id}/")) == 1
    finally:
        await hooks.stop()
