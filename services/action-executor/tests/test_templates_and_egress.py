"""Effect templates and the egress guard."""

from __future__ import annotations

import json
import socket

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from orderflow_action_executor.egress import (
    EgressRefused,
    GuardedResolver,
    check_url,
    parse_allowed,
)
from orderflow_action_executor.templates import (
    TemplateError,
    context_for,
    render,
    render_header,
    render_json,
    render_url,
)
from orderflow_schemas import HttpEffect, TriggerSpec
from pydantic import ValidationError

from .conftest import http_server

CTX = context_for("A 1/2", "job-7", {"totalCost": 12.5, "firstName": 'Ann "The" Lee',
                                     "email": "ann@example.com",
                                     "items": [{"name": "x", "category": "devices"}]}, "cust-1")


def test_seed_003_variables_order_item_and_customer_fields() -> None:
    assert render("{id_order}:{id_job}:{order.totalCost}:{order.items.0.name}", CTX) == \
        "A 1/2:job-7:12.5:x"
    assert render("{customer.id} {customer.email}", CTX) == "cust-1 ann@example.com"


def test_a_missing_variable_fails_with_its_name_not_an_empty_string() -> None:
    with pytest.raises(TemplateError, match=r"\{order.missing\} is missing"):
        render("{order.missing}", CTX)
    with pytest.raises(TemplateError, match="missing"):
        render("{order.items.5.name}", CTX)


def test_a_json_body_keeps_its_braces_and_escapes_values_for_where_they_land() -> None:
    body = render_json('{"orderId": "{id_order}", "total": "{order.totalCost}", '
                       '"amount": {order.totalCost}, "name": {order.firstName}, '
                       '"greeting": "Hi {order.firstName}", "items": {order.items}}', CTX)
    assert json.loads(body) == {
        "orderId": "A 1/2", "total": "12.5", "amount": 12.5, "name": 'Ann "The" Lee',
        "greeting": 'Hi Ann "The" Lee', "items": [{"name": "x", "category": "devices"}]}


def test_rendering_is_sandboxed_to_the_data() -> None:
    with pytest.raises(TemplateError):
        render("{order.__class__}", CTX)
    with pytest.raises(TemplateError):
        render("{order.totalCost.real}", CTX)  # a float has .real: paths never read attributes
    with pytest.raises(TemplateError):
        render("{id_order.upper}", CTX)


def test_a_header_value_cannot_break_the_line() -> None:
    with pytest.raises(TemplateError, match="line break"):
        render_header("{order.note}", {"order": {"note": "a\r\nX-Evil: 1"}})


def test_templates_are_checked_when_a_trigger_is_saved() -> None:
    with pytest.raises(ValidationError) as caught:
        HttpEffect(url="https://h/{order_id}")
    assert "unknown variable {order_id}" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        TriggerSpec.model_validate({"name": "t", "event": "orderDELIVERED", "effects": [
            {"type": "http", "url": "https://h/x", "body": '{"a": "{orders.total}"}'}]})
    assert caught.value.errors()[0]["loc"][:4] == ("effects", 0, "http", "body")
    HttpEffect(url="https://h/{id_order}", body='{"orderId": "{id_order}"}')  # fine


def test_url_values_are_percent_encoded() -> None:
    assert render_url("http://h/hook/{id_order}", CTX) == "http://h/hook/A%201%2F2"


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://10.0.0.5/", "http://[::1]:80/",
                                 "http://169.254.169.254/latest/meta-data", "http://localhost/",
                                 "ftp://example.com/", "http://192.168.1.1/"])
async def test_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(EgressRefused):
        await check_url(url, frozenset())


async def test_an_allowed_host_or_host_port_passes() -> None:
    await check_url("http://127.0.0.1:8080/x", parse_allowed("127.0.0.1"))
    await check_url("http://127.0.0.1:8080/x", parse_allowed("127.0.0.1:8080"))
    with pytest.raises(EgressRefused):
        await check_url("http://127.0.0.1:9090/x", parse_allowed("127.0.0.1:8080"))


async def test_allow_list_only_refuses_public_hosts_too() -> None:
    with pytest.raises(EgressRefused, match="allow-list-only"):
        await check_url("http://93.184.215.14/hook", frozenset(), allow_list_only=True)
    with pytest.raises(EgressRefused, match="allow-list-only"):
        await check_url("http://127.0.0.2/hook", parse_allowed("127.0.0.1"), allow_list_only=True)
    await check_url("http://127.0.0.1:8080/x", parse_allowed("127.0.0.1"), allow_list_only=True)


async def test_a_url_with_a_broken_port_is_refused_not_raised() -> None:
    with pytest.raises(EgressRefused, match="not a valid URL"):
        await check_url("http://127.0.0.1:99999/x", parse_allowed("127.0.0.1"))


class Rebinding(AbstractResolver):
    """A name whose answer changed after ``check_url`` looked: it now points at ``address``."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        return [ResolveResult(hostname=host, host=a, port=port, family=socket.AF_INET, proto=0,
                              flags=0) for a in self.addresses]

    async def close(self) -> None:
        pass


async def test_a_name_rebound_inside_after_the_check_is_not_connected_to() -> None:
    async def inside(_request: web.Request) -> web.Response:
        return web.Response(text="inside")

    app = web.Application()
    app.router.add_post("/hook", inside)
    async with http_server(app) as port:
        url = f"http://rebind.example:{port}/hook"
        guarded = aiohttp.TCPConnector(resolver=GuardedResolver(frozenset(),
                                                                Rebinding("127.0.0.1")))
        async with aiohttp.ClientSession(connector=guarded) as http:
            with pytest.raises(aiohttp.ClientConnectorError, match="internal addresses"):
                await http.post(url)
        allowed = aiohttp.TCPConnector(resolver=GuardedResolver(
            parse_allowed(f"rebind.example:{port}"), Rebinding("127.0.0.1")))
        async with aiohttp.ClientSession(connector=allowed) as http, \
                http.post(url) as answer:
            assert await answer.text() == "inside"  # listed by the operator: allowed


async def test_only_the_public_addresses_of_a_name_are_kept() -> None:
    guard = GuardedResolver(frozenset(), Rebinding("93.184.215.14", "10.0.0.5", "169.254.169.254"))
    assert [r["host"] for r in await guard.resolve("mixed.example", 443)] == ["93.184.215.14"]
