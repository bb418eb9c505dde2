"""The "call URL" effect (seed 003): templates rendered, the address checked, the request signed
(Standard Webhooks), the answer's status compared with the expected ones.

5xx, 408, 429, timeouts and connection errors are worth a retry, and so is any other unexpected
status (a receiver may be mid-deploy), 3xx included (redirects are not followed: the receiver
named in the trigger is the one called); ``Retry-After`` on 429 and 503 sets the next wait; 410
Gone means the endpoint is gone (it is disabled until an operator enables it). A refused address
or a bad template is not worth a retry."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp
import orjson
from orderflow_schemas import ActionRequest, HttpEffect

from ..egress import EgressRefused, check_url
from ..templates import (
    TemplateError,
    context_for,
    render,
    render_header,
    render_json,
    render_url,
)
from .outcome import Attempt

Signer = Callable[[bytes, int], dict[str, str]]


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


async def call_url(session: aiohttp.ClientSession, request: ActionRequest,
                   allowed: frozenset[str], allow_list_only: bool = False,
                   sign: Signer | None = None) -> Attempt:
    effect = request.effect
    assert isinstance(effect, HttpEffect)
    ctx = context_for(request.external_order_id, request.trigger_id, request.order,
                      request.customer_id)
    content_type = next((v for k, v in effect.headers.items() if k.lower() == "content-type"),
                        "application/json")
    body_render = render_json if "json" in content_type.lower() else render
    try:
        url = render_url(effect.url, ctx)
        body = body_render(effect.body, ctx) if effect.body is not None else orjson.dumps(
            {"idOrder": request.external_order_id, "idJob": request.trigger_id,
             "order": request.order}).decode()
        headers = {k: render_header(v, ctx) for k, v in effect.headers.items()}
    except TemplateError as exc:
        return Attempt.permanent(f"template cannot be rendered: {exc}")
    payload = body.encode() if effect.method != "GET" else b""
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = content_type
    headers["Idempotency-Key"] = request.id  # lets the receiver drop a repeat after a crash
    if sign is not None:
        headers.update(sign(payload, int(time.time())))
    try:
        await check_url(url, allowed, allow_list_only)
    except EgressRefused as exc:
        return Attempt.permanent(str(exc))
    try:
        async with session.request(
            effect.method, url, data=payload if effect.method != "GET" else None,
            headers=headers, timeout=aiohttp.ClientTimeout(total=effect.timeout_seconds),
            allow_redirects=False,
        ) as resp:
            await resp.read()
            if resp.status in effect.expected_status:
                return Attempt.ok(f"{effect.method} {url} answered {resp.status}", resp.status)
            detail = (f"{effect.method} {url} answered {resp.status}, expected "
                      f"{', '.join(map(str, effect.expected_status))}")
            if resp.status == 410:
                return Attempt.endpoint_gone(
                    detail + ": the endpoint is gone and is disabled until it is enabled again")
            wait = retry_after(resp.headers.get("Retry-After")) \
                if resp.status in (429, 503) else None
            return Attempt.transient(detail, resp.status, wait)
    except (TimeoutError, aiohttp.ClientError) as exc:
        return Attempt.transient(f"{effect.method} {url} failed: {type(exc).__name__}: {exc}")
