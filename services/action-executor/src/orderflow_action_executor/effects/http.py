"""The "call URL" effect (seed 003): templates rendered, the address checked, the answer's
status compared with the expected ones. 5xx, 408, 429, timeouts and connection errors are worth
a retry; any other unexpected status is too (a receiver may be mid-deploy), but a refused
address or a bad template is not."""

from __future__ import annotations

import aiohttp
import orjson
from orderflow_schemas import ActionRequest, HttpEffect

from ..egress import EgressRefused, check_url
from ..templates import context_for, render, render_url
from .outcome import Attempt


async def call_url(session: aiohttp.ClientSession, request: ActionRequest,
                   allowed: frozenset[str], allow_list_only: bool = False) -> Attempt:
    effect = request.effect
    assert isinstance(effect, HttpEffect)
    ctx = context_for(request.external_order_id, request.trigger_id, request.order)
    try:
        url = render_url(effect.url, ctx)
        body = render(effect.body, ctx) if effect.body is not None else orjson.dumps(
            {"idOrder": request.external_order_id, "idJob": request.trigger_id,
             "order": request.order}).decode()
        headers = {k: render(v, ctx) for k, v in effect.headers.items()}
    except (ValueError, KeyError, IndexError) as exc:
        return Attempt.permanent(f"template cannot be rendered: {exc}")
    headers.setdefault("Content-Type", "application/json")
    headers["Idempotency-Key"] = request.id  # lets the receiver drop a repeat after a crash
    try:
        await check_url(url, allowed, allow_list_only)
    except EgressRefused as exc:
        return Attempt.permanent(str(exc))
    try:
        async with session.request(
            effect.method, url, data=body.encode() if effect.method != "GET" else None,
            headers=headers, timeout=aiohttp.ClientTimeout(total=effect.timeout_seconds),
            allow_redirects=False,
        ) as resp:
            await resp.read()
            if resp.status in effect.expected_status:
                return Attempt.ok(f"{effect.method} {url} answered {resp.status}", resp.status)
            return Attempt.transient(
                f"{effect.method} {url} answered {resp.status}, expected "
                f"{', '.join(map(str, effect.expected_status))}", resp.status)
    except (TimeoutError, aiohttp.ClientError) as exc:
        return Attempt.transient(f"{effect.method} {url} failed: {type(exc).__name__}: {exc}")
