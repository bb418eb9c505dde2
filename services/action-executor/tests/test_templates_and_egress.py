"""Effect templates and the egress guard."""

from __future__ import annotations

import pytest
from orderflow_action_executor.egress import EgressRefused, check_url, parse_allowed
from orderflow_action_executor.templates import context_for, render, render_url

CTX = context_for("A 1/2", "job-7", {"totalCost": 12.5, "items": [{"name": "x"}]})


def test_seed_003_variables_and_order_fields() -> None:
    assert render("{id_order}:{id_job}:{order.totalCost}:{order.items.0.name}", CTX) == \
        "A 1/2:job-7:12.5:x"
    assert render("{order.missing}", CTX) == ""


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
