"""The console's runs page over plain HTTP (it needs no browser: server-rendered HTML): a
delayed trigger's waiting run shows with its order, step and due time, the state filter and the
order filter narrow the list, and a run cancelled by disabling the trigger says why."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e


async def _runs_page(console: httpx.AsyncClient, trigger_id: str, **query: str) -> str:
    answer = await console.get(f"/triggers/{trigger_id}/runs", params=query)
    assert answer.status_code == 200, answer.text
    return answer.text


async def test_the_console_lists_a_triggers_runs_and_filters_them(platform: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    mine, other = f"runs-{tag}-a", f"runs-{tag}-b"
    async with httpx.AsyncClient(headers=platform.headers, timeout=10) as http, \
            httpx.AsyncClient(base_url=platform.urls["console"], timeout=10) as console:
        signed_in = await console.post("/login", data={
            "key": platform.api_key, "user_id": "u-1", "user_name": "Ops"})
        assert signed_in.status_code == 303, signed_in.text
        made = await http.post(f"{platform.urls['trigger-engine']}/api/v1/triggers", json={
            "name": f"review later {tag}", "event": "orderDELIVERED", "delay": "P1D",
            "conditions": [{"field": "order.externalOrderId", "op": "matches",
                            "value": f"^runs-{tag}-"}],
            "effects": [{"type": "http", "url": "http://127.0.0.1:9/{id_order}"}]})
        assert made.status_code == 201, made.text
        trigger_id = made.json()["id"]
        try:
            listed = (await console.get("/triggers")).text
            assert f'href="/triggers/{trigger_id}/runs"' in listed
            await asyncio.sleep(1.5)  # every worker holds the new trigger
            sent = await http.post(f"{platform.urls['ingest']}/api/v1/orders", json={"orders": [
                {"externalOrderId": oid, "totalCost": 10, "status": "DELIVERED",
                 "date": "2026-11-29T10:00:00+00:00", "email": "ann@example.com"}
                for oid in (mine, other)]})
            assert sent.status_code == 200 and not sent.json()["rejected"], sent.text

            deadline = time.monotonic() + 30
            while (page := await _runs_page(console, trigger_id)).count("<td>waiting</td>") < 2:
                assert time.monotonic() < deadline, page
                await asyncio.sleep(0.3)
            assert f"review later {tag}" in page and mine in page and other in page

            one = await _runs_page(console, trigger_id, order=mine)
            assert mine in one and other not in one
            assert "No runs match." in await _runs_page(console, trigger_id, state="done")

            disabled = await http.post(
                f"{platform.urls['trigger-engine']}/api/v1/triggers/{trigger_id}/disable")
            assert disabled.status_code == 200, disabled.text
            while "<td>cancelled</td>" not in (page := await _runs_page(
                    console, trigger_id, state="cancelled", order=mine)):
                assert time.monotonic() < deadline, page
                await asyncio.sleep(0.3)
            assert "the trigger was disabled" in page, page
        finally:
            await http.delete(f"{platform.urls['trigger-engine']}/api/v1/triggers/{trigger_id}")
