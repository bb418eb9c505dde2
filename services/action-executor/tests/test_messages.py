"""SMS and e-mail effects to the order's contact (seed 001), against a real SMTP server
(``aiosmtpd``) and a real local HTTP SMS gateway, with the executor on the real broker and
database: sent when the contact is valid, skipped with the reason when it is missing or invalid."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from aiohttp import web
from orderflow_action_executor.bootstrap import build_app
from orderflow_runtime.kafka import EventProducer
from orderflow_schemas import ActionRequest, EmailEffect, SmsEffect
from orderflow_schemas.topics import ACTION_REQUESTS

from .conftest import http_server, local_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gateway() -> AsyncIterator[tuple[list[dict[str, Any]], int]]:
    sent: list[dict[str, Any]] = []

    async def sms(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer sms-token"
        sent.append(await request.json())
        return web.json_response({"status": "queued"}, status=202)

    app = web.Application()
    app.router.add_post("/sms", sms)
    async with http_server(app) as port:
        yield sent, port


class Executor:
    def __init__(self, producer: EventProducer, pool: asyncpg.Pool) -> None:
        self.producer, self.pool = producer, pool

    async def send(self, effect: Any, **order: Any) -> ActionRequest:
        request = ActionRequest(
            external_order_id=f"o-{uuid.uuid4().hex[:6]}", trigger_id="t-1",
            trigger_name="notify", firing_id="f-1", event_id=str(uuid.uuid4()), effect=effect,
            order={"firstName": "Ann", "totalCost": 99.5, **order})
        await self.producer.send(ACTION_REQUESTS, request.external_order_id, request)
        return request

    async def outcome(self, request: ActionRequest) -> tuple[str, str | None]:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            row = await self.pool.fetchrow(
                "SELECT state, last_error FROM requests WHERE request_id = $1", request.id)
            if row is not None and row["state"] != "pending":
                return row["state"], row["last_error"]
            await asyncio.sleep(0.1)
        raise AssertionError(f"request {request.id} was never performed")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def executor(kafka_bootstrap: str, database_url: str, smtp: Any,
                   gateway: Any) -> AsyncIterator[Executor]:
    settings = local_settings(
        kafka_bootstrap, database_url, "msg", retry_schedule="0.3", smtp_port=smtp[1],
        mail_from="shop@example.com", sms_gateway_url=f"http://127.0.0.1:{gateway[1]}/sms",
        sms_gateway_token="sms-token")
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        producer = EventProducer(kafka_bootstrap, settings.topic_prefix)
        yield Executor(producer, app.state.pool)
        await producer.close()


async def test_an_sms_goes_to_the_orders_phone_through_the_gateway(
        executor: Executor, gateway: Any) -> None:
    sent, _ = gateway
    request = await executor.send(SmsEffect(text="Hi {order.firstName}, order {id_order} "
                                                  "is on its way"), phone="0170 1234567")
    assert await executor.outcome(request) == ("succeeded", None)
    [sms] = [s for s in sent if s["reference"] == request.id]
    assert sms["to"] == "+491701234567"  # read in the default region, sent as E.164
    assert sms["text"] == f"Hi Ann, order {request.external_order_id} is on its way"


@pytest.mark.parametrize(("phone", "reason"), [
    (None, "no phone number"), ("12", "not a valid number"), ("call me", "cannot be read")])
async def test_no_sms_to_a_missing_or_invalid_phone(
        executor: Executor, gateway: Any, phone: str | None, reason: str) -> None:
    sent, _ = gateway
    request = await executor.send(SmsEffect(text="Hello"), phone=phone)
    state, detail = await executor.outcome(request)
    assert state == "skipped" and detail is not None and reason in detail
    assert not [s for s in sent if s["reference"] == request.id]


async def test_an_email_goes_to_the_orders_address_over_smtp(
        executor: Executor, smtp: Any) -> None:
    box, _ = smtp
    request = await executor.send(
        EmailEffect(subject="Order {id_order} delivered",
                    body="Dear {order.firstName}, thank you ({order.totalCost} EUR)."),
        email="Ann.Lee@Example.com")
    assert await executor.outcome(request) == ("succeeded", None)
    [message] = [m for m in box.messages if request.id in m["Message-ID"]]
    assert message["To"] == "Ann.Lee@example.com"  # the domain normalized
    assert message["From"] == "shop@example.com"
    assert message["Subject"] == f"Order {request.external_order_id} delivered"
    assert "Dear Ann, thank you (99.5 EUR)." in message.get_payload()


@pytest.mark.parametrize(("address", "reason"), [
    (None, "no e-mail address"), ("ann@", "is not valid"), ("not an address", "is not valid")])
async def test_no_email_to_a_missing_or_invalid_address(
        executor: Executor, smtp: Any, address: str | None, reason: str) -> None:
    box, _ = smtp
    request = await executor.send(EmailEffect(subject="s", body="b"), email=address)
    state, detail = await executor.outcome(request)
    assert state == "skipped" and detail is not None and reason in detail
    assert not [m for m in box.messages if request.id in m["Message-ID"]]
