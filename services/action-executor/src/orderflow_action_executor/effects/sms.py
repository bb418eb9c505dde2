"""The SMS effect: the text template rendered, sent to the order's phone through an HTTP SMS
gateway (``ORDERFLOW_SMS_GATEWAY_URL``, a bearer token), which gets
``{"to", "from", "text", "reference"}`` as JSON (``reference``: the request id, for the gateway
to drop a repeat). A missing or invalid phone number is skipped with the reason; 5xx, 429 and
network errors are retried; another 4xx is the gateway refusing the message, not retried."""

from __future__ import annotations

import aiohttp
from orderflow_schemas import ActionRequest, SmsEffect

from ..config import ExecutorSettings
from ..egress import EgressRefused, check_url
from ..templates import TemplateError, context_for, render
from .contact import NoRecipient, phone_of
from .outcome import Attempt


async def send_sms(session: aiohttp.ClientSession, request: ActionRequest,
                   settings: ExecutorSettings, allowed: frozenset[str]) -> Attempt:
    effect = request.effect
    assert isinstance(effect, SmsEffect)
    try:
        to = phone_of(request.order, settings.sms_default_region)
    except NoRecipient as exc:
        return Attempt.skipped(f"SMS not sent: {exc}")
    try:
        text = render(effect.text, context_for(request.external_order_id, request.trigger_id,
                                               request.order, request.customer_id))
    except TemplateError as exc:
        return Attempt.permanent(f"template cannot be rendered: {exc}")
    if not settings.sms_gateway_url:
        return Attempt.permanent("no SMS gateway is configured (ORDERFLOW_SMS_GATEWAY_URL)")
    try:
        await check_url(settings.sms_gateway_url, allowed, settings.egress == "allow-list-only")
    except EgressRefused as exc:
        return Attempt.permanent(f"SMS gateway refused: {exc}")
    headers = {"Authorization": f"Bearer {settings.sms_gateway_token}"} \
        if settings.sms_gateway_token else {}
    body = {"to": to, "from": settings.sms_sender, "text": text, "reference": request.id}
    try:
        async with session.post(settings.sms_gateway_url, json=body, headers=headers,
                                timeout=aiohttp.ClientTimeout(total=10),
                                allow_redirects=False) as resp:
            await resp.read()
            detail = f"SMS to {to}: gateway answered {resp.status}"
            if 200 <= resp.status < 300:
                return Attempt.ok(detail, resp.status)
            if resp.status >= 500 or resp.status == 429:
                return Attempt.transient(detail, resp.status)
            return Attempt.permanent(detail, resp.status)
    except (TimeoutError, aiohttp.ClientError) as exc:
        return Attempt.transient(f"SMS gateway failed: {type(exc).__name__}: {exc}")
