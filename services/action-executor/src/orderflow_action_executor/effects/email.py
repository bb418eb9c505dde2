"""The e-mail effect: subject and body templates rendered, sent to the order's e-mail address
over SMTP with ``aiosmtplib``. The Message-ID is derived from the request id, so a receiver (or
a mail system) can drop the repeat a crash after sending may cause. A missing or invalid address
is skipped with the reason; a connection or temporary (4xx) SMTP failure is retried; a
permanent (5xx) refusal is not."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
from orderflow_schemas import ActionRequest, EmailEffect

from ..config import ExecutorSettings
from ..templates import TemplateError, context_for, render
from .contact import NoRecipient, email_of
from .outcome import Attempt


def message_id(request_id: str, settings: ExecutorSettings) -> str:
    domain = settings.mail_from.rpartition("@")[2] or "orderflow.local"
    return f"<{request_id}@{domain}>"


async def send_email(request: ActionRequest, settings: ExecutorSettings) -> Attempt:
    effect = request.effect
    assert isinstance(effect, EmailEffect)
    try:
        to = email_of(request.order)
    except NoRecipient as exc:
        return Attempt.skipped(f"e-mail not sent: {exc}")
    ctx = context_for(request.external_order_id, request.trigger_id, request.order,
                      request.customer_id)
    try:
        subject, body = render(effect.subject, ctx), render(effect.body, ctx)
    except TemplateError as exc:
        return Attempt.permanent(f"template cannot be rendered: {exc}")
    return await deliver(settings, to, subject, body, message_id(request.id, settings))


async def deliver(settings: ExecutorSettings, to: str, subject: str, body: str,
                  msg_id: str) -> Attempt:
    """One message over SMTP; shared with the manager notification."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.mail_from, to, subject
    message["Message-ID"] = msg_id
    message.set_content(body)
    try:
        await aiosmtplib.send(
            message, hostname=settings.smtp_host, port=settings.smtp_port,
            username=settings.smtp_username or None, password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls, timeout=15)
    except aiosmtplib.SMTPResponseException as exc:
        detail = f"e-mail to {to}: SMTP answered {exc.code} {exc.message}"
        return Attempt.permanent(detail) if exc.code >= 500 else Attempt.transient(detail)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return Attempt.transient(f"e-mail to {to}: {type(exc).__name__}: {exc}")
    return Attempt.ok(f"e-mail sent to {to}")
