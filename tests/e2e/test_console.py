"""The console in a real browser (Chromium driven by Playwright) against the whole platform:
sign in (a wrong key first), create a trigger through the editor (an invalid regex first, its
error shown beside the field), send an order over the API, watch the firing and the webhook
appear in the open order page without a reload, open the payment connector's FORM as a modal,
submit an invalid then a valid value, and see the execution with the user's name and the
connector's related comment under it. Every page visited is saved as a screenshot under
``.run/test-output/console/``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from orderflow_devstack import net

from .hooks import HookServer
from .test_payment_connector import CONNECTOR

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).parents[2] / ".run" / "test-output" / "console"
# Chromium on a machine without network: no background connections (refused here) or look-ups.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def connector(platform: Any, tmp_path: Path) -> Iterator[None]:
    env = {**os.environ, "ORDERFLOW_KAFKA_BOOTSTRAP": platform.kafka_bootstrap,
           "ORDERFLOW_TOPIC_PREFIX": platform.topic_prefix, "ORDERFLOW_API_KEY": platform.api_key,
           "ORDERFLOW_EXECUTOR_URL": platform.urls["action-executor"],
           "ORDERFLOW_INGEST_URL": platform.urls["ingest"],
           "PAYMENT_API_PORT": str(net.free_port())}
    proc = subprocess.Popen([sys.executable, str(CONNECTOR)], env=env,
                            stdout=(tmp_path / "connector.log").open("ab"),
                            stderr=subprocess.STDOUT)
    yield
    proc.terminate()
    proc.wait(10)


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("no Chromium on this machine: `make browser` installs Debian's package "
                    "(needs root and apt); the console's browser tests did not run")
    from playwright.async_api import async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        await chromium.close()


async def test_a_merchant_works_through_the_console(platform: Any, browser: Any,
                                                    connector: None) -> None:
    hooks = await HookServer().start()
    console = platform.urls["console"]
    order_id = f"web-{uuid.uuid4().hex[:8]}"
    page = await (await browser.new_context(viewport={"width": 1200, "height": 900})).new_page()
    shots = 0

    async def shot(name: str) -> None:
        nonlocal shots
        shots += 1
        await page.screenshot(path=str(SHOTS / f"{shots:02d}-{name}.png"), full_page=True)

    try:
        # Sign in: a wrong key is a message, not a stack trace; the key never reaches the page.
        await page.goto(f"{console}/orders")
        assert "/login" in page.url
        await page.fill("#key", "not-a-key")
        await page.fill("#user_id", "u-7")
        await page.fill("#user_name", "Shift Lead")
        await page.click("button[type=submit]")
        assert await page.inner_text(".field-error") == "This API key is not valid."
        await shot("sign-in-refused")
        await page.fill("#key", platform.api_key)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{console}/orders")
        cookie = next(c for c in await page.context.cookies() if c["name"] == "orderflow_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert platform.api_key not in await page.content()
        assert await page.evaluate("document.cookie") == ""
        await shot("orders")

        # A trigger through the editor: a regex that does not compile is shown at its field.
        await page.goto(f"{console}/triggers/new")
        await page.fill("input[name=name]", "big delivered orders")
        await page.select_option("select[name='listen.event']", "orderDELIVERED")
        await page.fill("input[name='conditions.0.field']", "order.totalCost")
        await page.select_option("select[name='conditions.0.op']", "gt")
        await page.fill("input[name='conditions.0.value']", "500")
        # (this order's id only: the platform is shared with other end-to-end tests)
        await page.fill("input[name='conditions.1.field']", "order.externalOrderId")
        await page.select_option("select[name='conditions.1.op']", "matches")
        await page.fill("input[name='conditions.1.value']", "((")
        await page.select_option("select[name='effects.0.type']", "http")
        await page.fill("input[name='effects.0.url']",
                        f"http://127.0.0.1:{hooks.port}/hook/{{id_order}}")
        await page.fill("input[name='effects.0.expectedStatus']", "200")
        await page.click("text=Save trigger")
        error = page.locator("#err-conditions-1-value")
        assert "does not compile" in await error.inner_text()
        await shot("trigger-editor-error")
        await page.fill("input[name='conditions.1.value']", f"^{order_id}$")
        await page.click("text=Save trigger")
        await page.wait_for_url(f"{console}/triggers?**")
        assert await page.locator("td", has_text="big delivered orders").count() == 1
        await shot("triggers")

        # An order over the API; the open order page shows the firing and the webhook.
        await page.goto(f"{console}/orders/{order_id}")
        assert await page.locator("h1", has_text="Something went wrong").count() == 1
        import httpx

        async with httpx.AsyncClient(headers=platform.headers, timeout=10) as http:
            answer = await http.post(f"{platform.urls['ingest']}/api/v1/orders", json={
                "orders": [{"externalOrderId": order_id, "totalCost": 800, "status": "DELIVERED",
                            "date": "2026-11-29T10:00:00+00:00", "email": "ann@example.com",
                            "firstName": "Ann", "externalCustomerId": "shop-cust-7"}]})
            assert answer.status_code == 200, answer.text
        await hooks.wait_for(f"/hook/{order_id}")
        await page.wait_for_timeout(1500)  # history projects what the services emitted
        await page.goto(f"{console}/orders/{order_id}")
        await page.locator("#timeline .kind-effect_succeeded").wait_for(timeout=30_000)
        assert "big delivered orders: fired" in await page.inner_text("#timeline")
        assert await page.locator("dt", has_text="RFM").count() == 1  # the contact preview
        await shot("order-with-webhook")

        # The connector's FORM as a modal: an invalid value, then a valid one.
        form = page.locator("[data-open-dialog]", has_text="Reduce payment")
        await form.wait_for(timeout=30_000)
        await form.click()
        dialog = page.locator("dialog[open]")
        await dialog.locator("input[name='input.percent']").fill("80")
        await shot("form-modal")
        await dialog.locator("button[type=submit]").click()
        dialog = page.locator("dialog[open]")
        assert await dialog.locator(".field-error").inner_text() == "must be at most 50"
        await shot("form-modal-error")
        await dialog.locator("input[name='input.percent']").fill("10")
        await dialog.locator("button[type=submit]").click()
        await page.locator(".notice", has_text="Done").wait_for()
        execution = page.locator("#timeline .kind-external_action")
        await execution.wait_for(timeout=30_000)
        assert "Shift Lead" in await execution.inner_text()
        await execution.locator(".comments").wait_for(timeout=60_000)  # live, no reload
        assert "payment reduced by 10%: 800.00 → 720.00" in await execution.inner_text()
        await shot("order-with-comment")

        # The other pages a person works in.
        await page.goto(f"{console}/orders?customer=shop-cust-7")
        assert await page.locator("a", has_text=order_id).count() == 1
        await page.goto(f"{console}/triggers")
        await page.click("text=Dry run")
        await page.fill("input[name=order]", order_id)
        await page.click("text=Try")
        assert "It would fire" in await page.inner_text("main")
        await shot("dry-run")
        await page.goto(f"{console}/events?name=orderDELIVERED&order={order_id}")
        assert await page.locator("td", has_text=order_id).count() == 1
        await shot("event-history")
        await page.goto(f"{console}/operations")
        assert await page.locator("code", has_text=f"127.0.0.1:{hooks.port}").count() >= 1
        await shot("operations")
        # A changing request without the session's token is refused.
        refused = await page.request.post(f"{console}/triggers", form={"name": "x"})
        assert refused.status == 403
        await page.set_viewport_size({"width": 390, "height": 844})  # a phone
        await page.goto(f"{console}/orders/{order_id}")
        await shot("order-on-a-phone")

        # Delete, after a confirmation.
        await page.set_viewport_size({"width": 1200, "height": 900})
        await page.goto(f"{console}/triggers")
        row = page.locator("tr", has_text="big delivered orders")
        await row.locator("text=Delete…").click()
        assert "Delete the trigger 'big delivered orders'?" in await page.inner_text("main")
        await shot("delete-confirmation")
        await page.click("button.danger")
        await page.wait_for_url(f"{console}/triggers?notice=deleted")
        assert await page.locator("td", has_text="big delivered orders").count() == 0
    finally:
        await hooks.stop()
